import { Command, Flags } from '@oclif/core';
import { createContext, type Ctx } from './context.js';
import { reportError } from './errors.js';

/**
 * The oclif side of every command: parse, build a Ctx, hand over to a
 * handler in src/cli/handlers, map errors to exit codes. Commands stay thin.
 */
export abstract class BaseCommand extends Command {
  /** Run `handler` with a fresh context; errors become a message on stderr and an exit code. */
  protected async handle(json: boolean, handler: (ctx: Ctx) => Promise<void>): Promise<void> {
    const ctx = createContext({ json });
    try {
      await handler(ctx);
    } catch (e) {
      process.exitCode = reportError(ctx, e);
    }
  }
}

/** `--json`: shared by every command that returns data. */
export const jsonFlag = Flags.boolean({ description: 'print machine-readable JSON (stable, additive-only fields)' });
