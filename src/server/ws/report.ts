/**
 * The WebSocket modules' two outputs besides the sockets: notes in the
 * request log and audit events. Neither may ever break a connection, so
 * both swallow what their sink throws.
 */
import type { AuditActor, AuditOutcome } from '../../core/audit/types.js';
import { noteLine } from '../log.js';
import { WS_PATH, type WsDeps } from './types.js';

export const ANONYMOUS: AuditActor = { id: 'anonymous' };

export class WsReport {
  constructor(private readonly deps: Pick<WsDeps, 'log' | 'audit' | 'auditDenied'>) {}

  /** A finished request-log line (log.ts requestLine shape). */
  line(text: string): void {
    try { this.deps.log(text); } catch { /* never break the upgrade */ }
  }

  /** A note in the request log's shape: `TIME ws … rid=ID actor="LABEL"`. */
  note(text: string, requestId?: string, actorLabel?: string): void {
    try { this.deps.log(noteLine(text, requestId, actorLabel)); } catch { /* logging must never break a connection */ }
  }

  audit(actor: AuditActor, action: string, outcome: AuditOutcome, ip: string, requestId: string, extra: { target?: string; detail?: string } = {}): void {
    try { this.deps.audit.append({ actor, action, outcome, ip, requestId, ...extra }); } catch { /* a sink must not throw; never let it break us */ }
  }

  /** A refusal of the upgrade that nothing else bounds: through the server's denial gate when it has one. */
  denied(actor: AuditActor, action: string, ip: string, requestId: string, detail: string): void {
    const target = `GET ${WS_PATH}`;
    if (this.deps.auditDenied) {
      try { this.deps.auditDenied(actor, action, ip, requestId, target, detail); } catch { /* never break the upgrade */ }
    } else {
      this.audit(actor, action, 'denied', ip, requestId, { target, detail });
    }
  }
}
