/**
 * Errors from a remote `mediagate serve`, turned back into the MediagateError
 * the same command would have raised locally — same code, same message, the
 * same exit code — so `--remote` changes where a command runs, not what a
 * script sees. This is the one place that decides it; test/remote-errors.test.js
 * walks the table.
 *
 * An answer `{"error":{"code","message","requestId","hint"?}}` with status S:
 *
 * | rule (first match wins)                                   | exit | why                                     |
 * |-----------------------------------------------------------|------|-----------------------------------------|
 * | S = 429 (any code: rate_limit.*, auth.locked)             | 1    | message + "rate limited, retry after N s" |
 * | code in EXACT (player.error, mpris.closed, audit.broken)  | its own | codes that are exit 1 locally        |
 * | code `auth.*`                                             | 4    |                                         |
 * | code `usage.*` `request.*` `token.*` `invite.*` `config.not_secret` `media.*` | 2 | bad input / wrong id / wrong state |
 * | code `player.*` `backend.*` `volume.*` `mpris.*` `mpd.*`  | 3    | no player or backend, or it cannot      |
 * | code `route.*` `server.*` `state.*` `config.*` `secret.*` … | 1    | the server's own problem or version     |
 * | S = 400, 404, 405, 409, 413, 415, 422 (code unknown)      | 2    |                                         |
 * | S = 401, 403 (code unknown)                               | 4    |                                         |
 * | anything else (5xx, state.*, config.*, server.internal)   | 1    | a problem on the server, not here       |
 *
 * Exit 5 (config) is never the server's to give: its configuration is not the
 * caller's problem. An answer that is not a mediagate error body at all (a
 * proxy's HTML 502, a 404 from some other web server) is named as such.
 *
 * Network failures — refused, DNS, reset, TLS, time-out — are UnreachableError
 * (exit 6) naming the server URL. Nothing here ever sees the token.
 */
import { ExitCode, MediagateError, UnreachableError, type ExitCodeValue } from '../core/errors.js';

/** A MediagateError that came from a server, with its request id (for the server's log). */
export class RemoteError extends MediagateError {
  readonly status: number;
  readonly requestId: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: string, message: string, exitCode: ExitCodeValue, hint: string | undefined, extra: { status: number; requestId?: string | undefined; retryAfterSeconds?: number | undefined }) {
    super(code, message, exitCode, hint);
    this.status = extra.status;
    this.requestId = extra.requestId;
    this.retryAfterSeconds = extra.retryAfterSeconds;
  }
}

/** Codes whose local exit code differs from their family's. */
const EXACT: Record<string, ExitCodeValue> = {
  'player.error': ExitCode.failure, // a player refused a call for its own reasons (MPRIS)
  'mpris.closed': ExitCode.failure,
  'audit.broken': ExitCode.failure,
};

const PREFIX: Array<[RegExp, ExitCodeValue]> = [
  [/^auth\./, ExitCode.auth],
  [/^(usage|request|token|invite|media)\./, ExitCode.usage],
  [/^config\.not_secret$/, ExitCode.usage],
  [/^(player|backend|volume|mpris|mpd)\./, ExitCode.noPlayer],
  [/^(route|server|rate_limit|state|config|secret|audit)\./, ExitCode.failure],
];

const STATUS_USAGE = new Set([400, 404, 405, 409, 413, 415, 422]);
const STATUS_AUTH = new Set([401, 403]);

/** Exit code for a server error: the one a local run would give for `code`, else by status. */
export function exitCodeFor(status: number, code: string | undefined): ExitCodeValue {
  if (status === 429) return ExitCode.failure;
  if (code) {
    const exact = EXACT[code];
    if (exact !== undefined) return exact;
    for (const [re, exit] of PREFIX) if (re.test(code)) return exit;
  }
  if (STATUS_AUTH.has(status)) return ExitCode.auth;
  if (STATUS_USAGE.has(status)) return ExitCode.usage;
  return ExitCode.failure;
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), if usable. */
export function retryAfterSeconds(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const s = header.trim();
  if (/^\d{1,9}$/.test(s)) return Number(s);
  const at = Date.parse(s);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** One line, no control characters, at most 300 characters: server text is not trusted to be tidy. */
function oneLine(text: string, max = 300): string {
  // eslint-disable-next-line no-control-regex
  const s = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

interface ErrorBody { code?: unknown; message?: unknown; requestId?: unknown; hint?: unknown }

/** The `error` object of a mediagate error answer, or undefined when the body is not one. */
export function errorBodyOf(body: unknown): { code: string; message: string; requestId?: string; hint?: string } | undefined {
  const e = (body as { error?: ErrorBody } | null | undefined)?.error;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string' || typeof e.message !== 'string') return undefined;
  if (!/^[a-z0-9_]+(\.[a-z0-9_]+)+$/.test(e.code) || e.code.length > 100) return undefined;
  return {
    code: e.code,
    message: oneLine(e.message) || e.code,
    ...(typeof e.requestId === 'string' ? { requestId: oneLine(e.requestId, 100) } : {}),
    ...(typeof e.hint === 'string' && e.hint.trim() ? { hint: oneLine(e.hint) } : {}),
  };
}

export interface ResponseInfo {
  status: number;
  /** Parsed JSON body, or undefined when it was not JSON. */
  body: unknown;
  retryAfter?: string | null | undefined;
  /** The server as the user knows it (profile URL), for messages. */
  server: string;
  /** Remote profile name, for hints; absent for `remote add` and pairing. */
  profile?: string | undefined;
}

/** Hints the client adds when the server gave none and there is something useful to say here. */
function clientHint(exit: ExitCodeValue, status: number, code: string, info: ResponseInfo, requestId: string | undefined): string | undefined {
  const p = info.profile;
  if (exit === ExitCode.auth && status === 401) {
    return p
      ? `the server no longer accepts the token of remote profile '${p}' (revoked, expired or wrong); store a new one with: mediagate remote add ${p} ${info.server} (or pair again: mediagate invite redeem CODE --server ${info.server} --save ${p})`
      : 'check the token: it may have been revoked, have expired or been mistyped';
  }
  if (exit === ExitCode.auth && status === 403) {
    return p ? `the token of remote profile '${p}' does not have the scope this needs; ask the server's admin for one that does` : undefined;
  }
  if (status >= 500 && requestId) return `the details are in the server's log under request id ${requestId}`;
  if (code === 'route.not_found' || code === 'route.method_not_allowed') {
    return 'the server does not offer this; it may run an older mediagate';
  }
  return undefined;
}

/** An error answer → the MediagateError the command reports. */
export function errorFromResponse(info: ResponseInfo): MediagateError {
  const { status } = info;
  const parsed = errorBodyOf(info.body);
  if (!parsed) {
    if (status === 404 || (status >= 300 && status < 400) || status === 502 || status === 504) {
      // Not mediagate's JSON: a proxy, another web server, or the wrong URL.
      return new UnreachableError(
        `${info.server} did not answer as a mediagate server (HTTP ${status}${status === 404 ? ' without a mediagate error' : ''})`,
        status === 502 || status === 504 ? 'a proxy in front of it answered: check that `mediagate serve` is running behind it' : 'check the server URL',
        'remote.not_mediagate',
      );
    }
  }
  const code = parsed?.code ?? `http.${status}`;
  const exit = exitCodeFor(status, parsed?.code);
  let message = parsed?.message ?? `the server answered HTTP ${status}`;
  const retry = status === 429 ? retryAfterSeconds(info.retryAfter) : undefined;
  if (status === 429) message = `${message} (rate limited, retry after ${retry ?? '?'} s)`;
  const hint = parsed?.hint ?? clientHint(exit, status, code, info, parsed?.requestId);
  return new RemoteError(code, message, exit, hint, { status, requestId: parsed?.requestId, retryAfterSeconds: retry });
}

/** Error codes of TLS certificate failures (Node / OpenSSL). */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED', 'CERT_REVOKED', 'CERT_SIGNATURE_FAILURE', 'HOSTNAME_MISMATCH',
]);

const NET_WHY: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is `mediagate serve` running there?)',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved (DNS not answering)',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ETIMEDOUT: 'the connection timed out',
  EPIPE: 'the connection was closed',
  UND_ERR_SOCKET: 'the connection was closed unexpectedly',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  UND_ERR_BODY_TIMEOUT: 'the answer stopped arriving',
  ERR_SSL_WRONG_VERSION_NUMBER: 'TLS handshake failed: the server does not speak https on this port (try http://?)',
  EPROTO: 'TLS handshake failed',
};

/** The innermost error code and message of a fetch/undici/ws failure. */
function rootCause(e: unknown): { code?: string; message: string; name?: string } {
  let cur = e as { code?: unknown; message?: unknown; name?: unknown; cause?: unknown } | undefined;
  let code: string | undefined;
  let message = '';
  let name: string | undefined;
  for (let depth = 0; cur && depth < 5; depth++) {
    if (typeof cur.code === 'string') code = cur.code;
    if (typeof cur.message === 'string' && cur.message) message = cur.message;
    if (typeof cur.name === 'string' && depth === 0) name = cur.name;
    if (cur.cause === undefined || cur.cause === cur) break;
    cur = cur.cause as typeof cur;
  }
  return { ...(code ? { code } : {}), message, ...(name ? { name } : {}) };
}

/** A failure to talk to the server at all → UnreachableError (exit 6) naming `server`. */
export function errorFromNetwork(e: unknown, server: string, timeoutMs: number, profile?: string): UnreachableError {
  const { code, message, name } = rootCause(e);
  const caHint = profile
    ? `if it uses a private CA, give its certificate: mediagate config set remotes.${profile}.ca /path/to/ca.pem`
    : 'if it uses a private CA, give its certificate with --ca FILE';
  if (name === 'TimeoutError' || name === 'AbortError' || code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED') {
    return new UnreachableError(`cannot reach the mediagate server at ${server}: no answer within ${formatSeconds(timeoutMs)}`,
      'check that the server is up and reachable from this machine; a slow network may need a longer remote.timeoutMs', 'remote.timeout');
  }
  if (code && (TLS_CODES.has(code) || /^ERR_TLS_|^ERR_SSL_|CERT/.test(code))) {
    const why = NET_WHY[code] ?? `its TLS certificate was not accepted (${code})`;
    return new UnreachableError(`cannot reach the mediagate server at ${server}: ${why}`,
      code === 'ERR_SSL_WRONG_VERSION_NUMBER' ? 'check the scheme and port of the URL' : caHint, 'remote.tls');
  }
  const why = (code && NET_WHY[code]) ?? (code ? `${code}` : oneLine(message, 120) || 'network error');
  return new UnreachableError(`cannot reach the mediagate server at ${server}: ${why}`,
    'check the URL and that `mediagate serve` is running there and reachable from this machine', 'remote.unreachable');
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
