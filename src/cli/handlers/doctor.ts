import { resolve } from 'node:path';
import { Config } from '../../core/config/store.js';
import { DEFAULT_BACKEND_TIMEOUT_MS } from '../../core/timeout.js';
import { out, outJson, say, type Ctx } from '../context.js';

const MARK = { ok: '✓', warn: '!', fail: '✗', skip: '-' } as const;

/** `mediagate doctor [--json] [--record DIR]`: what was found, why not, the fix; exit 0 when the main job can run. */
export async function doctor(ctx: Ctx, flags: { record?: string | undefined }): Promise<void> {
  const { runDoctor, exitCodeOf } = await import('../../core/doctor/index.js');
  let config: Config;
  try { config = Config.load(ctx.env); } catch { config = Config.load({ ...ctx.env, MEDIAGATE_CONFIG_DIR: '/nonexistent-mediagate-doctor' }); }
  let mpdPassword: string | undefined;
  if (config.has('mpd.password')) {
    try { mpdPassword = (await import('../../core/secrets.js')).readSecret(config, 'mpd.password', ctx.env); } catch { /* reported by the MPD check as an auth failure */ }
  }
  const report = await runDoctor({ env: ctx.env, config, timeoutMs: config.get<number>('backend.timeoutMs') ?? DEFAULT_BACKEND_TIMEOUT_MS, mpdPassword },
    flags.record ? resolve(flags.record) : undefined);
  if (ctx.json) {
    outJson(ctx, report);
  } else {
    out(ctx, `mediagate doctor on ${report.os} (${report.platform})`);
    const width = Math.max(...report.checks.map((c) => c.name.length));
    for (const c of report.checks) {
      out(ctx, `${MARK[c.status]} ${c.name.padEnd(width)}  ${c.found}`);
      if (c.why) out(ctx, `  ${' '.repeat(width)}  why: ${c.why}`);
      if (c.fix && c.status !== 'ok') out(ctx, `  ${' '.repeat(width)}  fix: ${c.fix}`);
    }
    out(ctx, report.ok ? 'mediagate can control media here.' : 'mediagate cannot control media here yet: see the fixes above.');
    if (report.recorded.length) say(ctx, `recorded ${report.recorded.length} probe outputs in ${resolve(flags.record!)} (check them for anything private before sharing)`);
  }
  process.exitCode = exitCodeOf(report.checks);
}
