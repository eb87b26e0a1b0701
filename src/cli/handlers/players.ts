import { Config } from '../../core/config/store.js';
import { PlayerHub } from '../../core/players/hub.js';
import type { Ctx } from '../context.js';

/** The MPD password from config, opened from its sealed form; undefined when none is set. */
async function mpdPassword(config: Config, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (!config.has('mpd.password')) return undefined;
  const { readSecret } = await import('../../core/secrets.js');
  return readSecret(config, 'mpd.password', env);
}

/** Open the player hub for one command and always close it, so the process can exit. */
export async function withHub<T>(ctx: Ctx, fn: (hub: PlayerHub, config: Config) => Promise<T>): Promise<T> {
  const config = Config.load(ctx.env);
  const hub = new PlayerHub({ env: ctx.env, config, mpdPassword: await mpdPassword(config, ctx.env) });
  try {
    return await fn(hub, config);
  } finally {
    await hub.close();
  }
}
