import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuthError, ExitCode, MediagateError } from '../../core/errors.js';
import { configDir, stateDir } from '../../core/paths.js';
import { initSystem, serviceLocation, type ServiceLocation } from '../../core/service/locate.js';
import { hiddenBySandbox, renderUnit, SYSTEM_USER, sysusersEntry, UNIT_NAME, type ServiceMode } from '../../core/service/unit.js';
import { out, outJson, say, type Ctx } from '../context.js';

/**
 * `mediagate service install|uninstall|status`: a systemd unit for `serve`.
 * The unit comes from src/core/service/unit.ts; this file writes it, and asks
 * systemctl (and systemd-sysusers, for the system service's account) to act.
 */
export interface ServiceFlags { mode: ServiceMode; print?: boolean | undefined }

/** This package's bin/run.cjs (dist/cli/handlers → the package root). */
function binPath(): string {
  return fileURLToPath(new URL('../../../bin/run.cjs', import.meta.url));
}

/** The unit `install` writes now, for this mode and environment. */
export function currentUnit(ctx: Ctx, mode: ServiceMode): string {
  return renderUnit({ mode, node: process.execPath, bin: binPath(), configDir: configDir(ctx.env), stateDir: stateDir(ctx.env) });
}

interface Ran { code: number; stdout: string; stderr: string }

/** Run a systemd tool (argument array, no shell, 20 s at most); never rejects. */
function run(ctx: Ctx, cmd: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: ctx.env, timeout: 20_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 127) : 0;
      resolve({ code, stdout, stderr: stderr || (err && code === 127 ? err.message : '') });
    });
  });
}

async function mustRun(ctx: Ctx, cmd: string, args: string[]): Promise<void> {
  const r = await run(ctx, cmd, args);
  if (r.code !== 0) {
    throw new MediagateError('service.systemctl_failed', `${cmd} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-2).join(' ')}`, ExitCode.failure,
      r.code === 127 ? `${cmd} is not installed` : undefined);
  }
}

const scopeArgs = (loc: ServiceLocation) => [...(loc.mode === 'user' ? ['--user'] : []), ...(loc.root ? [`--root=${loc.root}`] : [])];

/** The live system service needs root; an offline root or a user unit needs only write access there. */
function checkPrivilege(loc: ServiceLocation, verb: string): void {
  if (loc.mode === 'system' && !loc.root && typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new AuthError(`${verb} the system service needs root`, `sudo mediagate service ${verb === 'installing' ? 'install' : 'uninstall'} --system, or --user for a service of your own`, 'service.needs_root');
  }
}

/** Write `text` to `path` (0644) through a temp file and rename; false when it already held exactly that. */
function writeFileAtomic(path: string, text: string): boolean {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return false;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, path);
  } catch (e) {
    throw writeError(path, e);
  }
  return true;
}

function writeError(path: string, e: unknown): MediagateError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new AuthError(`cannot write ${path}: permission denied`, 'run it as the owner of that directory (root for --system)', 'service.denied');
  }
  return new MediagateError('service.write_failed', `cannot write ${path}: ${(e as Error).message}`, ExitCode.failure);
}

export async function serviceInstall(ctx: Ctx, flags: ServiceFlags): Promise<void> {
  const loc = serviceLocation(flags.mode, ctx.env);
  const unit = currentUnit(ctx, flags.mode);
  if (flags.print) { out(ctx, unit.trimEnd()); return; }

  const init = initSystem(ctx.env);
  if (!init.systemd) {
    if (ctx.json) outJson(ctx, { mode: loc.mode, installed: false, unitPath: loc.unitPath, reason: 'no_systemd', unit });
    else out(ctx, unit.trimEnd());
    throw new MediagateError('service.no_systemd',
      `systemd is not the init here (PID 1 is ${init.pid1}): nothing installed; the ${loc.mode} unit is ${ctx.json ? 'in the JSON on stdout' : 'printed on stdout'}`,
      ExitCode.noPlayer,
      `save it as ${loc.unitPath} on a machine that runs systemd, or have your supervisor run: ${process.execPath} ${binPath()} serve`);
  }
  checkPrivilege(loc, 'installing');
  if (flags.mode === 'system') {
    const hidden = [process.execPath, binPath()].find((p) => hiddenBySandbox(p) === 'tmp');
    if (hidden) say(ctx, `mediagate: warning: ${hidden} is under a temporary directory, which the service's PrivateTmp= hides: install mediagate elsewhere (e.g. npm install -g) before starting it`);
  }

  const changed = writeFileAtomic(loc.unitPath, unit);
  if (flags.mode === 'system' && loc.sysusersPath) {
    writeFileAtomic(loc.sysusersPath, sysusersEntry());
    await mustRun(ctx, 'systemd-sysusers', [...(loc.root ? [`--root=${loc.root}`] : []), loc.sysusersPath]);
  }
  let enabled = false;
  let started = false;
  if (!loc.root) {
    await mustRun(ctx, 'systemctl', [...scopeArgs(loc), 'daemon-reload']);
    await mustRun(ctx, 'systemctl', [...scopeArgs(loc), 'enable', UNIT_NAME]);
    // A running service keeps the old unit until restarted; restart also starts a stopped one.
    await mustRun(ctx, 'systemctl', [...scopeArgs(loc), changed ? 'restart' : 'start', UNIT_NAME]);
    enabled = true;
    started = true;
  } else if (loc.mode === 'system') {
    await mustRun(ctx, 'systemctl', [...scopeArgs(loc), 'enable', UNIT_NAME]);
    enabled = true;
  }

  const { auditLocal } = await import('../audit-local.js');
  await auditLocal(ctx, { action: 'service.install', target: loc.mode, outcome: 'ok' });
  if (ctx.json) { outJson(ctx, { mode: loc.mode, installed: true, changed, unitPath: loc.unitPath, enabled, started, offline: Boolean(loc.root) }); return; }
  say(ctx, `${changed ? 'installed' : 'already current:'} ${loc.unitPath} (${loc.mode} unit)${enabled ? `; enabled${started ? ' and started' : ''}` : ''}`);
  const sc = loc.mode === 'user' ? ' --user' : '';
  if (loc.root) say(ctx, `offline root ${loc.root}: no service manager asked${loc.mode === 'user' ? `; enable it there with: systemctl --user enable --now ${UNIT_NAME}` : ''}`);
  say(ctx, `status: systemctl${sc} status mediagate   logs: journalctl${sc} -u mediagate`);
  say(ctx, `on its first start without an admin token, serve prints one, once, into the journal (journalctl${sc} -u mediagate): create your own with token create and revoke that one`);
  if (loc.mode === 'user') say(ctx, 'to keep it running while you are logged out: loginctl enable-linger');
  else say(ctx, `it runs as the user ${SYSTEM_USER}; manage its tokens and config as that user: sudo -u ${SYSTEM_USER} -H mediagate token create --label NAME --scope admin`);
}

export async function serviceUninstall(ctx: Ctx, flags: ServiceFlags): Promise<void> {
  const loc = serviceLocation(flags.mode, ctx.env);
  if (!existsSync(loc.unitPath)) {
    if (ctx.json) outJson(ctx, { mode: loc.mode, removed: false, unitPath: loc.unitPath });
    else say(ctx, `not installed: no ${loc.unitPath}`);
    return;
  }
  checkPrivilege(loc, 'removing');
  const init = initSystem(ctx.env);
  if (init.systemd && (!loc.root || loc.mode === 'system')) {
    await mustRun(ctx, 'systemctl', [...scopeArgs(loc), 'disable', ...(loc.root ? [] : ['--now']), UNIT_NAME]);
  }
  try {
    unlinkSync(loc.unitPath);
    if (loc.sysusersPath && existsSync(loc.sysusersPath)) unlinkSync(loc.sysusersPath);
  } catch (e) {
    throw writeError(loc.unitPath, e);
  }
  if (init.systemd && !loc.root) await mustRun(ctx, 'systemctl', [...scopeArgs(loc), 'daemon-reload']);
  const { auditLocal } = await import('../audit-local.js');
  await auditLocal(ctx, { action: 'service.uninstall', target: loc.mode, outcome: 'ok' });
  if (ctx.json) { outJson(ctx, { mode: loc.mode, removed: true, unitPath: loc.unitPath }); return; }
  say(ctx, `removed ${loc.unitPath}${init.systemd && !loc.root ? ' (stopped and disabled)' : ''}`);
  if (loc.mode === 'system') say(ctx, `the user ${SYSTEM_USER} and its config and state (/var/lib/mediagate) are kept; remove them yourself when no longer wanted`);
}

/** What `service status --json` prints (stable, additive-only). */
export interface ServiceStatus {
  mode: ServiceMode;
  unitPath: string;
  installed: boolean;
  /** The installed unit is what install would write now (false after node or mediagate moved). */
  current: boolean | null;
  systemd: boolean;
  pid1: string;
  offline: boolean;
  enabled: string | null;
  active: string | null;
  sub: string | null;
  mainPid: number | null;
  restarts: number | null;
}

function parseShow(text: string): Record<string, string> {
  const props: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) props[line.slice(0, i)] = line.slice(i + 1);
  }
  return props;
}

export async function serviceStatus(ctx: Ctx, flags: ServiceFlags): Promise<void> {
  const loc = serviceLocation(flags.mode, ctx.env);
  const installed = existsSync(loc.unitPath);
  const init = initSystem(ctx.env);
  const s: ServiceStatus = {
    mode: loc.mode, unitPath: loc.unitPath, installed,
    current: installed ? readFileSync(loc.unitPath, 'utf8') === currentUnit(ctx, loc.mode) : null,
    systemd: init.systemd, pid1: init.pid1, offline: Boolean(loc.root),
    enabled: null, active: null, sub: null, mainPid: null, restarts: null,
  };
  if (init.systemd && installed) {
    if (loc.root) {
      // Offline: only what the files say (systemctl --root answers is-enabled without a manager).
      if (loc.mode === 'system') s.enabled = (await run(ctx, 'systemctl', [...scopeArgs(loc), 'is-enabled', UNIT_NAME])).stdout.trim() || null;
    } else {
      const r = await run(ctx, 'systemctl', [...scopeArgs(loc), 'show', UNIT_NAME, '--property=UnitFileState,ActiveState,SubState,MainPID,NRestarts']);
      if (r.code === 0) {
        const p = parseShow(r.stdout);
        s.enabled = p.UnitFileState || null;
        s.active = p.ActiveState || null;
        s.sub = p.SubState || null;
        s.mainPid = p.MainPID ? Number(p.MainPID) || null : null;
        s.restarts = p.NRestarts ? Number(p.NRestarts) : null;
      }
    }
  }
  if (ctx.json) { outJson(ctx, s); return; }
  out(ctx, `${loc.mode} service: ${installed ? `installed at ${loc.unitPath}${s.current ? '' : ' (out of date: run mediagate service install again)'}` : `not installed (would be ${loc.unitPath})`}`);
  if (!init.systemd) out(ctx, `systemd: not the init here (PID 1 is ${init.pid1})`);
  if (s.enabled) out(ctx, `enabled: ${s.enabled}`);
  if (s.active) out(ctx, `active: ${s.active}${s.sub ? ` (${s.sub})` : ''}${s.mainPid ? `, pid ${s.mainPid}` : ''}${s.restarts ? `, restarted ${s.restarts} times` : ''}`);
}
