import { ExitCode, MediagateError, UsageError } from '../../core/errors.js';
import { stateDir } from '../../core/paths.js';
import { followAudit, type AuditQuery, type AuditRecord } from '../../core/audit/log.js';
import { parseSince } from '../../core/audit/since.js';
import type { AuditOutcome } from '../../core/audit/types.js';
import { out, outJson, outJsonLine, say, type Ctx } from '../context.js';
import { isRemote, withAdmin } from './remote.js';

export interface AuditFlags {
  follow?: boolean | undefined;
  since?: string | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  outcome?: string | undefined;
  limit?: number | undefined;
}

/** How many past events `--follow` shows first when neither --limit nor --since says. */
const FOLLOW_BACKLOG = 10;
/** The most past events a server sends a follower (its WS protocol's limit). */
const REMOTE_BACKLOG_MAX = 10_000;
const OUTCOMES = ['ok', 'denied', 'error'];

/** Flags → query; bad values are usage errors (exit 2). */
export function auditQuery(ctx: Ctx, flags: AuditFlags): AuditQuery {
  const q: AuditQuery = {};
  if (flags.since !== undefined) q.since = parseSince(flags.since, ctx.now());
  if (flags.actor) q.actor = flags.actor;
  if (flags.action) q.action = flags.action;
  if (flags.outcome !== undefined) {
    if (!OUTCOMES.includes(flags.outcome)) throw new UsageError(`invalid --outcome '${flags.outcome}'`, 'use ok, denied or error');
    q.outcome = flags.outcome as AuditOutcome;
  }
  if (flags.limit !== undefined) {
    if (!Number.isSafeInteger(flags.limit) || flags.limit < 1) throw new UsageError(`invalid --limit '${flags.limit}'`, 'use a whole number of 1 or more');
    q.limit = flags.limit;
  }
  return q;
}

/** Nothing from the file reaches the terminal as a control sequence. */
function safe(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

function actorText(r: AuditRecord): string {
  const id = r.actor?.id ?? '?';
  const label = r.actor?.label;
  return safe(label && !id.endsWith(`:${label}`) ? `${id} (${label})` : id);
}

const MIN_WIDTH = [24, 16, 14, 12, 6, 9, 8];

function cells(r: AuditRecord): string[] {
  return [safe(r.time), actorText(r), safe(r.action), safe(r.target ?? '-'), safe(r.outcome), safe(r.ip ?? '-'), safe(r.requestId ?? '-')];
}

function paint(ctx: Ctx, outcome: string, text: string): string {
  if (!ctx.color) return text;
  if (outcome === 'denied') return `\u001b[33m${text}\u001b[39m`;
  if (outcome === 'error') return `\u001b[31m${text}\u001b[39m`;
  return text;
}

/** One human line: time, actor, action, target, outcome, ip, request id, then the detail in quotes. */
function line(ctx: Ctx, r: AuditRecord, widths: number[]): string {
  const c = cells(r);
  const padded = c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i] ?? 0)));
  padded[4] = paint(ctx, r.outcome, padded[4]!);
  const detail = r.detail ? `  ${JSON.stringify(safe(r.detail))}` : '';
  return `${padded.join('  ')}${detail}`.trimEnd();
}

function widthsFor(rows: AuditRecord[]): number[] {
  const w = [...MIN_WIDTH];
  for (const r of rows) cells(r).forEach((v, i) => { w[i] = Math.min(40, Math.max(w[i] ?? 0, v.length)); });
  return w;
}

/** `mediagate audit`: matching events, oldest first; --follow keeps printing new ones. */
export async function auditList(ctx: Ctx, flags: AuditFlags): Promise<void> {
  const q = auditQuery(ctx, flags);
  if (flags.follow) return auditFollow(ctx, q);
  const events = await withAdmin(ctx, (admin) => admin.readAudit(q));
  if (ctx.json) return outJson(ctx, events);
  if (events.length === 0) { say(ctx, 'no audit events match'); return; }
  const widths = widthsFor(events);
  for (const r of events) out(ctx, line(ctx, r, widths));
}

/**
 * `audit --follow`: the backlog, then each new event as it is written — from
 * this machine's log (watched), or with --remote from the server's, pushed
 * over its WebSocket (`{type:"subscribe", topic:"audit"}`, admin scope).
 */
async function auditFollow(ctx: Ctx, q: AuditQuery): Promise<void> {
  const backlog = q.limit ?? (q.since ? undefined : FOLLOW_BACKLOG);
  const write = (r: AuditRecord) => {
    if (ctx.json) outJsonLine(ctx, r);
    else out(ctx, line(ctx, r, MIN_WIDTH));
  };
  let failed: Error | undefined;
  let stop: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => {
    stop = resolve;
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    ctx.stdout.once('error', resolve);
    ctx.stdout.once('close', resolve);
  });
  const { Config } = await import('../../core/config/store.js');
  const { resolveRemote } = await import('../../client/profiles.js');
  const config = Config.load(ctx.env);
  const remote = resolveRemote(ctx.remote, ctx.env, config);
  if (remote) {
    const { remoteClient } = await import('../../client/session.js');
    const { followRemoteAudit } = await import('../../client/follow.js');
    const filter = {
      ...(q.since ? { since: q.since.toISOString() } : {}), ...(q.actor ? { actor: q.actor } : {}),
      ...(q.action ? { action: q.action } : {}), ...(q.outcome ? { outcome: q.outcome } : {}),
    };
    await followRemoteAudit(await remoteClient(config, remote, ctx.env), filter, Math.min(backlog ?? REMOTE_BACKLOG_MAX, REMOTE_BACKLOG_MAX), write, ended);
    return;
  }
  const follower = await followAudit(stateDir(ctx.env), q, write, {
    ...(backlog !== undefined ? { backlog } : {}),
    onError: (e) => { failed = e; stop(); },
  });
  await ended;
  follower.close();
  if (failed) throw failed;
}

/**
 * `mediagate audit verify [--acknowledge]`: exit 0 only when the whole chain
 * holds. --acknowledge (this machine only) accepts a rebuilt head record —
 * the one finding that is not damage to a line — by appending an
 * `audit.acknowledged` event; any other damage is still reported.
 */
export async function auditVerify(ctx: Ctx, opts: { acknowledge?: boolean | undefined } = {}): Promise<void> {
  if (opts.acknowledge && isRemote(ctx)) {
    throw new UsageError('--acknowledge works only on the machine that keeps the log', 'run it there, without --remote', 'usage.local_only');
  }
  let r = await withAdmin(ctx, (admin) => admin.verifyAudit());
  if (opts.acknowledge && !r.ok && r.kind === 'head_rebuilt') {
    const { openAuditLog } = await import('../../core/audit/log.js');
    const { localActor } = await import('../../core/actor.js');
    const { ACKNOWLEDGED } = await import('../../core/audit/writer.js');
    const log = openAuditLog(ctx.env, { syncIo: true });
    log.append({ actor: localActor(), action: ACKNOWLEDGED, target: `seq ${r.firstBadLine.seq ?? '?'}`, outcome: 'ok', detail: 'accepted the rebuilt head record' });
    await log.close();
    say(ctx, `acknowledged the head record rebuilt at seq ${r.firstBadLine.seq ?? '?'}`);
    r = await withAdmin(ctx, (admin) => admin.verifyAudit());
  }
  if (ctx.json) outJson(ctx, r);
  if (r.ok) {
    if (!ctx.json) {
      out(ctx, `audit log intact: ${r.count} event(s) in ${r.files.length} file(s); chain ends at seq ${r.lastSeq}, hash ${r.lastHash}`);
    }
    if (r.notes > 0) {
      say(ctx, `note: the log contains ${r.notes} event(s) about itself (dropped events or crash recovery); see: mediagate audit --actor system:audit`);
    }
    return;
  }
  const where = `${r.firstBadLine.file}:${r.firstBadLine.line}${r.firstBadLine.seq !== undefined ? ` (seq ${r.firstBadLine.seq})` : ''}`;
  throw new MediagateError(
    'audit.broken',
    `audit log broken at ${where}: ${r.kind} — ${r.reason}`,
    ExitCode.failure,
    r.kind === 'head_rebuilt'
      ? 'look at the events before this line (mediagate audit --limit 50); once satisfied, accept it with: mediagate audit verify --acknowledge'
      : 'the log was changed outside mediagate or damaged; the lines before this one are intact. Keep a copy of the state dir for investigation.',
  );
}
