/**
 * `play status --follow --remote NAME` and `audit --follow --remote NAME`:
 * subscribe on the server's WebSocket (`/api/ws`, subprotocol mediagate.v1,
 * the token in the Authorization header — never the URL) and hand every
 * pushed `status` (of the active player, or of `--player NAME`) or `audit`
 * event on. The server pushes on change; nothing here polls.
 *
 * Ends when `stop` resolves (SIGINT, SIGTERM, stdout closed): resolves. Ends
 * with an error when the server refuses the upgrade (mapped like any HTTP
 * error: 401 → exit 4 …), cannot be reached (exit 6), closes the socket
 * because the token was revoked or expired (close code 4401 → exit 4) or goes
 * away (exit 6).
 */
import type { IncomingMessage } from 'node:http';
import type { AuditRecord } from '../core/audit/log.js';
import { AuthError, UnreachableError, type MediagateError } from '../core/errors.js';
import type { PlayerState } from '../core/players/types.js';
import { playerStateFrom } from './controller.js';
import { errorFromNetwork, errorFromResponse, exitCodeFor } from './errors.js';
import { apiUrl, type ApiClient } from './http.js';
import { RemoteError } from './errors.js';

const WS_PROTOCOL = 'mediagate.v1';
const CLOSE_TOKEN_INVALID = 4401;

/** The status the server pushes: of the active player, or of `player` when given (null while there is none). */
export function followRemoteStatus(api: ApiClient, onStatus: (s: PlayerState | null) => void, stop: Promise<void>, player?: string): Promise<void> {
  return follow(api, { type: 'subscribe', ...(player !== undefined ? { player } : {}) }, 'status', (data) => {
    onStatus(data && typeof data === 'object' ? playerStateFrom(api, data as Record<string, unknown>) : null);
  }, stop);
}

export interface RemoteAuditFilter { since?: string; actor?: string; action?: string; outcome?: string }

/** The server's audit events (admin scope): `backlog` past matching ones, then each new one as it is written. */
export function followRemoteAudit(api: ApiClient, filter: RemoteAuditFilter, backlog: number, onRecord: (r: AuditRecord) => void, stop: Promise<void>): Promise<void> {
  return follow(api, { type: 'subscribe', topic: 'audit', filter, backlog }, 'audit', (data) => {
    if (!data || typeof data !== 'object' || typeof (data as AuditRecord).action !== 'string') {
      throw new UnreachableError(`${api.server} sent an audit event mediagate does not understand`, 'the server may run a different mediagate version', 'remote.bad_response');
    }
    onRecord(data as AuditRecord);
  }, stop);
}

async function follow(api: ApiClient, subscribe: Record<string, unknown>, kind: 'status' | 'audit', onData: (data: unknown) => void, stop: Promise<void>): Promise<void> {
  const { WebSocket } = await import('ws');
  const { target, server } = api;
  const url = apiUrl(target.url, '/api/ws');
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url, [WS_PROTOCOL], {
    headers: target.token ? { authorization: `Bearer ${target.token}` } : {},
    ...(target.ca ? { ca: target.ca } : {}),
    handshakeTimeout: target.timeoutMs,
    followRedirects: false,
    perMessageDeflate: false,
    maxPayload: 1024 * 1024,
  });

  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: MediagateError) => {
      if (settled) return;
      settled = true;
      try { ws.close(1000); } catch { /* not open yet */ }
      if (ws.readyState !== WebSocket.CLOSED) setTimeout(() => ws.terminate(), 500).unref();
      if (err) reject(err); else resolve();
    };
    void stop.then(() => finish());

    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => { if (chunks.length < 64) chunks.push(c); });
      res.on('end', () => {
        let body: unknown;
        try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { body = undefined; }
        const retry = res.headers['retry-after'];
        finish(errorFromResponse({ status: res.statusCode ?? 0, body, retryAfter: Array.isArray(retry) ? retry[0] : retry, server, profile: target.profile }));
      });
      res.on('error', () => finish(new UnreachableError(`the connection to ${server} broke during the WebSocket upgrade`, undefined, 'remote.unreachable')));
    });
    ws.on('error', (e) => finish(errorFromNetwork(e, server, target.timeoutMs, target.profile)));
    ws.on('open', () => {
      if (ws.protocol !== WS_PROTOCOL) {
        finish(new UnreachableError(`${server} did not speak the mediagate WebSocket protocol`, 'the server may run a different mediagate version', 'remote.bad_response'));
        return;
      }
      ws.send(JSON.stringify(subscribe));
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let m: { type?: unknown; data?: unknown; code?: unknown; message?: unknown };
      try { m = JSON.parse(data.toString()); } catch { return; }
      if (m.type === kind) {
        try {
          onData(m.data);
        } catch (e) {
          finish(e as MediagateError);
        }
      } else if (m.type === 'error') {
        // An error about our subscription (auth, scope): nothing will follow, so stop with it.
        const code = typeof m.code === 'string' ? m.code : 'remote.error';
        const message = typeof m.message === 'string' ? m.message.slice(0, 300) : 'the server refused the subscription';
        finish(new RemoteError(code, message, exitCodeFor(0, code), undefined, { status: 0 }));
      }
    });
    ws.on('close', (code, reasonBuf) => {
      const reason = reasonBuf.toString().slice(0, 200);
      if (code === CLOSE_TOKEN_INVALID) {
        finish(new AuthError(`${server} closed the connection: ${reason || 'the token is no longer valid'}`,
          target.profile ? `store a new token with: mediagate remote add ${target.profile} ${server} --force` : undefined, 'auth.invalid_token'));
      } else {
        finish(new UnreachableError(`${server} closed the connection${code === 1001 ? ' (the server is shutting down)' : ` (code ${code}${reason ? `: ${reason}` : ''})`}`,
          'run the command again when the server is back', 'remote.closed'));
      }
    });
  });
}
