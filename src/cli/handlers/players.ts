import { Config } from '../../core/config/store.js';
import { LocalController, type Controller } from '../../core/control.js';
import type { Ctx } from '../context.js';

/** The MPD password from config, opened from its sealed form; undefined when none is set. */
async function mpdPassword(config: Config, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (!config.has('mpd.password')) return undefined;
  const { readSecret } = await import('../../core/secrets.js');
  return readSecret(config, 'mpd.password', env);
}

/** The local controller for one command, always closed afterwards so the process can exit. */
export async function withLocal<T>(ctx: Ctx, fn: (ctl: LocalController, config: Config) => Promise<T>): Promise<T> {
  const config = Config.load(ctx.env);
  const ctl = new LocalController(ctx.env, config, { mpdPassword: await mpdPassword(config, ctx.env), now: ctx.now });
  try {
    return await fn(ctl, config);
  } finally {
    await ctl.close();
  }
}

/** The controller a command acts through: this machine, or (with --remote) a mediagate server. */
export async function withController<T>(ctx: Ctx, fn: (ctl: Controller) => Promise<T>): Promise<T> {
  return withLocal(ctx, (ctl) => fn(ctl));
}
