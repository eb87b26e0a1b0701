/**
 * `{type:"subscribe", topic:"audit"}`: admin scope; the backlog, then every
 * new matching event as the log is written. Audit events are not whole
 * states (none can be skipped), so a follower whose socket has more than
 * 4 MiB unsent is closed with 1008 instead of being held back.
 */
import { WebSocket } from 'ws';
import type { AuditQuery, AuditRecord } from '../../core/audit/log.js';
import { parseSince } from '../../core/audit/since.js';
import { MediagateError } from '../../core/errors.js';
import { scopeAllows } from '../../core/scopes.js';
import { sanitizeMessage } from '../http-error.js';
import { AUDIT_BACKLOG_MAX, type AuditFilter, type MessageId, resultMessage, WsErrorCode } from '../ws-protocol.js';
import type { Connections } from './connections.js';
import type { WsReport } from './report.js';
import { type Conn, send, sendError, TEXT, WsClose, type WsDeps } from './types.js';

/** Bytes queued for a socket above which an audit follower is stopped. */
const AUDIT_SLOW_BYTES = 4 * 1024 * 1024;

export class AuditFollows {
  constructor(
    private readonly deps: Pick<WsDeps, 'followAudit'>,
    private readonly report: WsReport,
    private readonly connections: Connections,
  ) {}

  subscribe(c: Conn, filter: AuditFilter, backlog: number, id: MessageId | undefined): void {
    if (!this.connections.admit(c, 'audit.follow')) return;
    if (!scopeAllows(c.principal.scope, 'admin')) {
      this.report.audit(c.actor, 'audit.follow', 'denied', c.ip, c.requestId, { detail: `ws auth.insufficient_scope (token scope ${c.principal.scope})` });
      sendError(c, WsErrorCode.insufficientScope, `following the audit log needs the admin scope; this token has ${c.principal.scope}`, id);
      return;
    }
    const follow = this.deps.followAudit;
    if (!follow) { sendError(c, 'feature.unavailable', 'this server cannot follow its audit log', id); return; }
    const q: AuditQuery = {};
    try {
      if (filter.since !== undefined) q.since = parseSince(filter.since);
    } catch (e) {
      sendError(c, e instanceof MediagateError ? e.code : WsErrorCode.invalidMessage, sanitizeMessage((e as Error).message), id);
      return;
    }
    if (filter.actor !== undefined) q.actor = filter.actor;
    if (filter.action !== undefined) q.action = filter.action;
    if (filter.outcome !== undefined) q.outcome = filter.outcome;
    this.stop(c);
    const onEvent = (r: AuditRecord): void => {
      if (c.closing || c.ws.readyState !== WebSocket.OPEN) return;
      if (c.ws.bufferedAmount > AUDIT_SLOW_BYTES) {
        this.report.note(`ws ${c.requestId} closing a slow audit follower (${c.ws.bufferedAmount} bytes unsent)`);
        this.connections.closeConn(c, WsClose.policy, 'too slow: audit events are not being read');
        return;
      }
      c.ws.send(JSON.stringify({ type: 'audit', data: r }), TEXT);
    };
    const started = follow(q, onEvent, {
      backlog: Math.min(backlog, AUDIT_BACKLOG_MAX),
      onError: (e) => this.report.note(`ws ${c.requestId} audit follow: ${sanitizeMessage(e.message)}`),
    }).then((f) => {
      if (c.audit !== started) { f.close(); return null; } // unsubscribed or closed meanwhile
      if (id !== undefined) send(c, resultMessage(id, { subscribed: true, topic: 'audit' }));
      return f;
    }, (e: Error) => {
      if (c.audit === started) c.audit = null;
      this.report.note(`ws ${c.requestId} audit follow failed: ${sanitizeMessage(e?.message)}`);
      sendError(c, e instanceof MediagateError ? e.code : WsErrorCode.internal, 'the audit log cannot be followed; the details are in the server log', id);
      return null;
    });
    c.audit = started;
  }

  stop(c: Conn): void {
    const a = c.audit;
    c.audit = null;
    if (a) void a.then((f) => f?.close(), () => undefined);
  }
}
