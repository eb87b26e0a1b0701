/**
 * WebSocket `/api/ws`: authenticated, pushed player status and volume, and
 * control commands. Mounted on the HTTP server by `attachWebSocket`, which
 * composes the parts in ws/ (as routes/ splits the HTTP side):
 *
 * | module               | job |
 * |----------------------|-----|
 * | ws/handshake.ts      | the upgrade: path, rate limit, Origin, lockout, credentials, authentication, connection limit |
 * | ws/connections.ts    | open sockets and their principals: revocation/expiry (4401), keep-alive ping, closing |
 * | ws/fanout.ts         | status/volume subscriptions, one serialised Buffer per event, slow consumers |
 * | ws/audit-follow.ts   | `{topic:"audit"}` subscriptions (admin) |
 * | ws/dispatch.ts       | each message: per-socket rate, envelope, subscribe/unsubscribe, commands |
 * | ws/report.ts         | request-log notes and audit events that never break a socket |
 * | ws/types.ts          | WsDeps, limits, the per-socket record |
 *
 * Upgrade: a token-like query parameter (?token=, ?access_token=, an `mg_…`
 * value) is refused with 401 even next to a valid header: that secret has
 * already leaked into a URL. A pairing token (`mgp_…`) is never a bearer
 * token. A client that offers subprotocols must offer `mediagate.v1` (400
 * otherwise). Credentials: `Authorization: Bearer`, the `mediagate.token.<T>`
 * subprotocol next to `mediagate.v1`, or the web remote's session cookie when
 * the Origin is this server's own; never the URL.
 *
 * Messages: see ws-protocol.ts. Bad messages get an `error` message and the
 * socket stays open. Limits and what happens past them:
 *   - frames over 64 KiB: ws closes with 1009 (message too big);
 *   - invalid UTF-8 in a text frame: ws closes with 1007;
 *   - more than 20 messages/s (burst 40): each extra message gets a
 *     `rate_limit.exceeded` error; 20 refused in a row (no allowed message in
 *     between) closes with 1008 "message rate limit exceeded";
 *   - more than 8 commands waiting on players at once: `rate_limit.busy`.
 *
 * Every command re-checks the token first. No periodic timer runs except
 * the keep-alive ping, once every 30 s while sockets are open.
 */
import type { Server } from 'node:http';
import { AuditFollows } from './ws/audit-follow.js';
import { Connections } from './ws/connections.js';
import { Dispatcher } from './ws/dispatch.js';
import { Fanout } from './ws/fanout.js';
import { Handshake } from './ws/handshake.js';
import { WsReport } from './ws/report.js';
import { WS_DEFAULTS, type WsDeps, type WsLimits } from './ws/types.js';

export { WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX, WsErrorCode } from './ws-protocol.js';
export { WS_DEFAULTS, WS_MAX_PAYLOAD, WS_PATH, WsClose, type WsDeps, type WsLimits, type WsPrincipal } from './ws/types.js';

export interface WsHandle {
  close(): Promise<void>;
  count(): number;
  /** The status JSON changed without a player event (an artwork link became known): serialise and push it again. */
  refreshStatus(): void;
}

/** Mount `/api/ws` on `server`. */
export function attachWebSocket(server: Server, deps: WsDeps): WsHandle {
  const limits: WsLimits = { ...WS_DEFAULTS, ...(deps.limits ?? {}) };
  const report = new WsReport(deps);
  const connections = new Connections(deps, limits, report);
  const fanout = new Fanout(deps, limits, report, (c, code, reason) => connections.closeConn(c, code, reason));
  const audits = new AuditFollows(deps, report, connections);
  const dispatch = new Dispatcher(deps, limits, report, connections, fanout, audits);
  connections.onDetach((c) => {
    fanout.unsubscribe(c);
    audits.stop(c);
    dispatch.forget(c);
  });
  const handshake = new Handshake(server, deps, limits, report, connections,
    (ws, principal, ip, requestId) => connections.open(ws, principal, ip, requestId, dispatch.onMessage));

  let closing: Promise<void> | null = null;
  return {
    count: () => connections.size,
    refreshStatus: () => fanout.refreshStatus(),
    close(): Promise<void> {
      if (closing) return closing;
      handshake.detach();
      fanout.stop();
      connections.stop();
      dispatch.stop();
      closing = (async () => {
        await connections.closeAll();
        await handshake.close();
      })();
      return closing;
    },
  };
}
