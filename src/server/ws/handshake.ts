/**
 * The upgrade on `/api/ws`, before anything becomes a WebSocket, in this
 * order: path (other paths: left to other upgrade listeners, else 404) →
 * optional per-IP rate limit (429, audited) → Origin against the allow-list
 * or this server's own origin (absent = non-browser = allowed; else 403,
 * audited) → failure lockout (429, asked BEFORE any secret is verified, so
 * the right token is refused too) → credentials (ws-upgrade.ts) →
 * authenticate (401, audited, counted as a failure — a wrong or malformed
 * credential only) → the connection limit (503) → the ws handshake, which
 * answers the subprotocol `mediagate.v1`, never the token protocol.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { MediagateError } from '../../core/errors.js';
import { HttpError, sanitizeMessage } from '../http-error.js';
import { requestLine } from '../log.js';
import { requestIdFrom } from '../request-id.js';
import { WS_PROTOCOL, WsErrorCode } from '../ws-protocol.js';
import { credentialsOf, handshakeProblem, offeredProtocols, pathOf, refuseUpgrade } from '../ws-upgrade.js';
import type { Connections } from './connections.js';
import { ANONYMOUS, type WsReport } from './report.js';
import { WS_MAX_PAYLOAD, WS_PATH, type WsDeps, type WsLimits, type WsPrincipal } from './types.js';

export type OnOpen = (ws: WebSocket, principal: WsPrincipal, ip: string, requestId: string) => void;

export class Handshake {
  private readonly wss: WebSocketServer;
  private readonly requestIds = new WeakMap<IncomingMessage, string>();
  /** Upgrades authenticated whose handshake has not finished. */
  private pending = 0;

  constructor(
    private readonly server: Server,
    private readonly deps: WsDeps,
    private readonly limits: WsLimits,
    private readonly report: WsReport,
    private readonly connections: Connections,
    private readonly onOpen: OnOpen,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: WS_MAX_PAYLOAD,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
    });
    this.wss.on('headers', (headers, req) => {
      const id = this.requestIds.get(req);
      if (id) headers.push(`X-Request-ID: ${id}`);
    });
    // Handshake problems ws finds itself (a malformed Sec-WebSocket-Protocol): a JSON error like every other refusal.
    this.wss.on('wsClientError', (err: Error, socket: Duplex, req: IncomingMessage) => {
      refuseUpgrade(socket, new HttpError(400, 'request.bad_upgrade', sanitizeMessage(err.message)), this.requestIds.get(req) ?? requestIdFrom(req.headers['x-request-id']), deps.tls === true);
    });
    server.on('upgrade', this.onUpgrade);
  }

  /** Stop listening for upgrades (sockets already open stay until Connections closes them). */
  detach(): void {
    this.server.off('upgrade', this.onUpgrade);
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const deps = this.deps;
    const tls = deps.tls === true;
    if (pathOf(req.url) !== WS_PATH) {
      if (this.server.listenerCount('upgrade') > 1) return; // someone else's
      socket.on('error', () => {});
      refuseUpgrade(socket, new HttpError(404, 'route.not_found', 'no such WebSocket endpoint; use /api/ws'), requestIdFrom(req.headers['x-request-id']), tls);
      return;
    }
    const started = performance.now();
    socket.on('error', () => {});
    const requestId = requestIdFrom(req.headers['x-request-id']);
    let ip = '';
    // The same line as any request (log.ts), never the query (tokens may sit there).
    const finish = (status: number, actor: string | undefined): void => {
      this.report.line(requestLine('GET', WS_PATH, status, performance.now() - started, requestId, actor));
    };
    const refuse = (err: unknown): void => {
      finish(refuseUpgrade(socket, err, requestId, tls), undefined);
    };
    try {
      ip = deps.clientIp(req);
      const malformed = handshakeProblem(req);
      if (malformed) return refuse(malformed);
      if (this.connections.closed) return refuse(new HttpError(503, 'server.shutting_down', 'the server is shutting down', { retryAfterSeconds: 5 }));
      if (deps.rateLimit) {
        const r = deps.rateLimit(ip);
        if (!r.allowed) {
          this.report.denied(ANONYMOUS, 'rate_limit.exceeded', ip, requestId, 'ws upgrade over the per-address request limit');
          return refuse(new HttpError(429, WsErrorCode.rateLimited, 'too many requests; slow down', { retryAfterSeconds: r.retryAfterSeconds }));
        }
      }
      const origin = req.headers.origin;
      if (!deps.originAllowed(origin, req)) {
        this.report.denied(ANONYMOUS, 'ws.connect', ip, requestId, `auth.origin_denied origin ${JSON.stringify(String(origin).slice(0, 100))}`);
        return refuse(new HttpError(403, 'auth.origin_denied', 'this Origin is not allowed to open a WebSocket here; add it to server.corsOrigins'));
      }
      if (deps.isLocked(ip)) {
        this.report.denied(ANONYMOUS, 'auth.locked', ip, requestId, 'ws upgrade: address locked out after repeated failures');
        const retryAfterSeconds = Math.max(1, Math.ceil(deps.lockRetryAfter?.(ip) ?? 60));
        return refuse(new HttpError(429, 'auth.locked', 'too many failed attempts from this address; try again later', { retryAfterSeconds }));
      }
      const offered = offeredProtocols(req);
      if (offered.all.length > 0 && !offered.hasV1) {
        return refuse(new HttpError(400, 'request.unsupported_protocol', `offer the subprotocol ${WS_PROTOCOL}`));
      }
      const cred = credentialsOf(req, offered, deps.cookieSecret?.(req));
      if (cred.kind !== 'secret') {
        const code = cred.kind === 'none' ? 'auth.missing_token' : cred.code;
        const message = cred.kind === 'none'
          ? 'authentication required: send "Authorization: Bearer <token>" or offer the subprotocols mediagate.v1 and mediagate.token.<token>'
          : cred.why;
        if (cred.kind === 'none' || cred.code === 'auth.token_in_url') {
          // No secret was tried here (none at all, or one refused unread because it sits in the URL):
          // not a guess, so not counted toward the lockout — as over HTTP.
          this.report.denied(ANONYMOUS, code, ip, requestId, `ws ${code}`);
        } else {
          deps.recordFailure(ip);
          this.report.audit(ANONYMOUS, 'auth.failure', 'denied', ip, requestId, { target: `GET ${WS_PATH}`, detail: `ws ${code}` });
        }
        return refuse(new HttpError(401, code, message, { headers: { 'www-authenticate': 'Bearer realm="mediagate"' } }));
      }
      const principal = deps.authenticate(cred.secret, ip);
      if (!principal) {
        deps.recordFailure(ip);
        this.report.audit(ANONYMOUS, 'auth.failure', 'denied', ip, requestId, { detail: `ws auth.invalid_token (${cred.via})` });
        return refuse(new HttpError(401, 'auth.invalid_token', 'the token is not valid (unknown, revoked or expired)', { headers: { 'www-authenticate': 'Bearer realm="mediagate", error="invalid_token"' } }));
      }
      if (this.connections.size + this.pending >= this.limits.maxConnections) {
        return refuse(new HttpError(503, 'server.too_many_connections', 'too many WebSocket connections; try again later', { retryAfterSeconds: 30 }));
      }
      this.requestIds.set(req, requestId);
      this.pending++;
      let done = false;
      const settle = (): void => { if (!done) { done = true; this.pending--; } };
      socket.once('close', settle);
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        settle();
        finish(101, principal.label);
        this.onOpen(ws, principal, ip, requestId);
      });
    } catch (e) {
      this.report.note(`ws upgrade failed: ${sanitizeMessage((e as Error)?.message)}`, requestId);
      refuse(e instanceof HttpError || e instanceof MediagateError ? e : new HttpError(500, 'server.internal', 'the server failed to handle this request; the details are in the server log'));
    }
  };
}
