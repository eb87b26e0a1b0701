import { localActor } from '../../core/actor.js';
import { Config } from '../../core/config/store.js';
import { ExitCode, MediagateError, UsageError, type ExitCodeValue } from '../../core/errors.js';
import { escapeValue } from '../../core/format.js';
import { auditRefusedRun, listScripts, runScript } from '../../core/scripts.js';
import { out, outJson, say, type Ctx } from '../context.js';
import { abortOnSignals } from '../interrupt.js';
import { table } from './format.js';
import { withAudit } from './security-audit.js';

const clean = (s: string) => escapeValue(s, 'plain');

/** `mediagate script list`: what can be run, never the command or env values. */
export async function scriptList(ctx: Ctx): Promise<void> {
  const scripts = listScripts(Config.load(ctx.env));
  if (ctx.json) { outJson(ctx, scripts); return; }
  if (scripts.length === 0) {
    say(ctx, 'No scripts. Scripts are defined by hand in config.json under "scripts" (see `mediagate script list --help`).');
    return;
  }
  const rows = scripts.map((s) => [
    s.name,
    s.scope,
    s.params.map((p) => (p.required ? p.name : `[${p.name}]`)).join(' ') || '-',
    clean(s.description ?? ''),
  ]);
  for (const line of table(['NAME', 'SCOPE', 'PARAMS', 'DESCRIPTION'], rows)) out(ctx, line);
}

/** `--param k=v` flags → an object; a missing `=` or a repeated name is a usage error. */
export function parseParams(pairs: readonly string[]): Record<string, string> {
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param must be NAME=VALUE (got '${clean(pair).slice(0, 80)}')`, undefined, 'usage.invalid_param');
    const k = pair.slice(0, eq);
    if (Object.hasOwn(params, k)) throw new UsageError(`--param ${clean(k).slice(0, 64)} is given twice`, undefined, 'usage.invalid_param');
    params[k] = pair.slice(eq + 1);
  }
  return { ...params };
}

function interrupted(name: string, signal: string, exitCode: number): MediagateError {
  return new MediagateError('script.interrupted', `script '${name}' was stopped (with everything it started): mediagate got ${signal}`,
    exitCode as ExitCodeValue);
}

/**
 * `mediagate script run NAME [--param k=v …]`: its stdout to stdout, its
 * stderr to stderr (or the result object with --json). Exit 0 when the
 * script exited 0, else 1. Ctrl-C (SIGINT), SIGTERM or SIGHUP while it runs
 * end its process group, are audited as an interrupted run, and exit with
 * 128 + the signal number (130, 143, 129). Malformed --param flags are
 * refused (exit 2) and audited like every other refused run.
 */
export async function scriptRun(ctx: Ctx, name: string, pairs: readonly string[]): Promise<void> {
  const config = Config.load(ctx.env);
  const intr = abortOnSignals();
  let result;
  try {
    result = await withAudit(ctx, (audit) => {
      const actor = localActor();
      let params: Record<string, string>;
      try {
        params = parseParams(pairs);
      } catch (e) {
        if (e instanceof MediagateError) auditRefusedRun({ actor, audit, name, params: [...pairs], error: e });
        throw e;
      }
      return runScript(config, name, params, { actor, audit, scope: 'admin', env: ctx.env, signal: intr.signal });
    });
  } catch (e) {
    if (intr.received && e instanceof MediagateError && e.code === 'script.cancelled') throw interrupted(name, intr.received, intr.exitCode);
    throw e;
  } finally {
    intr.dispose();
  }
  if (ctx.json) {
    outJson(ctx, result);
  } else {
    ctx.stdout.write(result.stdout);
    ctx.stderr.write(result.stderr);
    if (result.truncated) say(ctx, `mediagate: output of script '${name}' was cut at its maxOutput limit`);
  }
  if (intr.received && !result.timedOut) throw interrupted(name, intr.received, intr.exitCode);
  if (result.timedOut) {
    throw new MediagateError('script.timeout', `script '${name}' ran out of time and was stopped (with everything it started)`, ExitCode.failure,
      'raise its "timeout" in config.json (at most 300 seconds) if it needs longer');
  }
  if (result.exitCode !== 0) {
    const how = result.exitCode === null ? `was killed by ${result.signal}` : `exited with status ${result.exitCode}`;
    throw new MediagateError('script.failed', `script '${name}' ${how}`, ExitCode.failure);
  }
}
