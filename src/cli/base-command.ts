import { Command } from '@oclif/core';
import { createContext, type Ctx } from './context.js';
import { reportError } from './errors.js';

export { jsonFlag } from './flags.js';

/**
 * The oclif side of every command: parse, build a Ctx, hand over to a
 * handler in src/cli/handlers, map errors to exit codes. Commands stay thin.
 */
export abstract class BaseCommand extends Command {
  /** Run `handler` with a fresh context; errors become a message on stderr and an exit code. */
  protected async handle(json: boolean | undefined, handler: (ctx: Ctx) => Promise<void>, remote?: string, node?: string): Promise<void> {
    const ctx = createContext({ json: Boolean(json), remote, node });
    try {
      await handler(ctx);
    } catch (e) {
      process.exitCode = reportError(ctx, e);
    }
  }

  /** Run this command's entry of the hot table (src/cli/hot.ts), exactly as the fast path does. */
  protected async runHot(flags: Record<string, unknown>, args: Record<string, string | undefined> = {}): Promise<void> {
    const { HOT } = await import('./hot.js');
    const run = HOT[this.id ?? ''];
    if (!run) throw new Error(`not a hot command: ${this.id}`);
    await this.handle(flags.json as boolean | undefined, (ctx) => run(ctx, flags, args), flags.remote as string | undefined, flags.node as string | undefined);
  }
}
