/**
 * Messages from a socket: the per-socket message rate, the envelope, and
 * what each type does — subscribe/unsubscribe (fanout.ts, audit-follow.ts)
 * and commands, which re-check the token, need the control scope, are
 * limited to `maxInFlight` at once per socket, run on the Controller and are
 * audited with their outcome.
 *
 * Past the message rate (`messagesPerSecond`, burst `messageBurst`) each
 * extra message gets a `rate_limit.exceeded` error; `maxStrikes` refused in
 * a row (no allowed message in between) closes the socket with 1008.
 */
import { runCommand } from '../run-command.js';
import type { RawData } from 'ws';
import { MediagateError } from '../../core/errors.js';
import { scopeAllows } from '../../core/scopes.js';
import { sanitizeMessage } from '../http-error.js';
import { DEFAULT_OPEN_POLICY, openRefusal } from '../open-policy.js';
import { RateLimiter } from '../rate-limit.js';
import {
  type Command, commandAuditAction, commandDetail, type Envelope, parseCommand, parseEnvelope, resultMessage, WsErrorCode, WsProtocolError,
} from '../ws-protocol.js';
import type { AuditFollows } from './audit-follow.js';
import type { Connections } from './connections.js';
import type { Fanout } from './fanout.js';
import type { WsReport } from './report.js';
import { type Conn, send, sendError, WsClose, type WsDeps, type WsLimits } from './types.js';

export class Dispatcher {
  private readonly limiter: RateLimiter;

  constructor(
    private readonly deps: Pick<WsDeps, 'controller' | 'openPolicy'>,
    private readonly limits: WsLimits,
    private readonly report: WsReport,
    private readonly connections: Connections,
    private readonly fanout: Fanout,
    private readonly audits: AuditFollows,
  ) {
    this.limiter = new RateLimiter({ rate: limits.messagesPerSecond, burst: limits.messageBurst, name: 'ws messages', maxKeys: limits.maxConnections + 16 });
  }

  /** Forget a connection's message bucket. */
  forget(c: Conn): void {
    this.limiter.delete(c.key);
  }

  stop(): void {
    this.limiter.close();
  }

  readonly onMessage = (c: Conn, data: RawData, isBinary: boolean): void => {
    c.alive = true;
    if (c.closing) return;
    const rate = this.limiter.check(c.key);
    if (!rate.allowed) {
      c.strikes++;
      if (c.strikes >= this.limits.maxStrikes) {
        this.report.note('ws closed for flooding', c.requestId, c.principal.label);
        this.connections.closeConn(c, WsClose.policy, 'message rate limit exceeded');
        return;
      }
      sendError(c, WsErrorCode.rateLimited, `too many messages: at most ${this.limits.messagesPerSecond} per second (burst ${this.limits.messageBurst}); this one was dropped — keep going and the socket is closed`);
      return;
    }
    c.strikes = 0;
    if (isBinary) { sendError(c, WsErrorCode.binaryFrame, 'binary frames are not understood; send JSON as text frames'); return; }
    let env;
    try {
      env = parseEnvelope(Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8'));
    } catch (e) {
      const pe = e as WsProtocolError;
      sendError(c, pe.code, pe.message, pe.id);
      return;
    }
    switch (env.type) {
      case 'subscribe': {
        if (env.topic === 'audit') { this.audits.subscribe(c, env.filter, env.backlog, env.id); return; }
        this.fanout.subscribe(c, env.player);
        if (env.id !== undefined) send(c, resultMessage(env.id, { subscribed: true }));
        return;
      }
      case 'unsubscribe':
        if (env.topic === 'audit') this.audits.stop(c); else this.fanout.unsubscribe(c);
        if (env.id !== undefined) send(c, resultMessage(env.id, { subscribed: false }));
        return;
      case 'command':
        void this.command(c, env);
    }
  };

  private async command(c: Conn, env: Extract<Envelope, { type: 'command' }>): Promise<void> {
    const id = env.id;
    const auditAction = commandAuditAction(env.action);
    if (!this.connections.admit(c, auditAction)) return;
    if (!scopeAllows(c.principal.scope, 'control')) {
      this.report.audit(c.actor, auditAction, 'denied', c.ip, c.requestId, { detail: `ws auth.insufficient_scope (token scope ${c.principal.scope})` });
      sendError(c, WsErrorCode.insufficientScope, `commands need the control scope; this token has ${c.principal.scope}`, id);
      return;
    }
    let cmd: Command;
    try {
      cmd = parseCommand(env);
    } catch (e) {
      const pe = e as WsProtocolError;
      this.report.audit(c.actor, auditAction, 'error', c.ip, c.requestId, { detail: `ws ${pe.code}` });
      sendError(c, pe.code, pe.message, pe.id);
      return;
    }
    if (c.inFlight >= this.limits.maxInFlight) {
      this.report.audit(c.actor, auditAction, 'denied', c.ip, c.requestId, { detail: `ws ${WsErrorCode.busy}` });
      sendError(c, WsErrorCode.busy, `too many commands still running on this socket (at most ${this.limits.maxInFlight}); wait for their results`, id);
      return;
    }
    const detail = commandDetail(cmd);
    const refused = cmd.action === 'open' ? openRefusal(this.deps.openPolicy?.() ?? DEFAULT_OPEN_POLICY, c.principal.scope, cmd.uri) : undefined;
    if (refused) {
      this.report.audit(c.actor, auditAction, 'denied', c.ip, c.requestId, { detail: `ws ${refused.code} ${detail}` });
      sendError(c, refused.code, sanitizeMessage(refused.message), id);
      return;
    }
    c.inFlight++;
    try {
      const data = await this.run(cmd);
      this.report.audit(c.actor, auditAction, 'ok', c.ip, c.requestId, { target: targetOf(data), ...(detail ? { detail } : {}) });
      send(c, resultMessage(id, data));
    } catch (e) {
      if (e instanceof MediagateError) {
        this.report.audit(c.actor, auditAction, 'error', c.ip, c.requestId, { detail: `${e.code}${detail ? ` ${detail}` : ''}` });
        sendError(c, e.code, sanitizeMessage(e.message), id);
      } else {
        this.report.note(`ws command ${cmd.action} failed: ${sanitizeMessage((e as Error)?.message)}`, c.requestId, c.principal.label);
        this.report.audit(c.actor, auditAction, 'error', c.ip, c.requestId, { detail: `${WsErrorCode.internal}${detail ? ` ${detail}` : ''}` });
        sendError(c, WsErrorCode.internal, 'the command failed; the details are in the server log', id);
      }
    } finally {
      c.inFlight--;
    }
  }

  /** The command itself, as the MQTT bridge runs it; open's policy was applied above. */
  private run(cmd: Command): Promise<Record<string, unknown>> {
    return runCommand(this.deps.controller, cmd, { openChecked: true });
  }

}

function targetOf(data: Record<string, unknown>): string | undefined {
  if (typeof data.player === 'string') return data.player;
  if (typeof data.target === 'string' && typeof data.backend === 'string') return `${data.target}:${data.backend}`;
  return undefined;
}
