/**
 * `mediagate serve`: the HTTP(S) server assembled from the middleware in
 * this directory, the route table (routes/) and the core.
 *
 * Per request, in this order:
 *
 *   request id (X-Request-ID: a safe upstream value, else a fresh one)
 *   → security headers (+ HSTS under TLS)
 *   → general per-address token bucket (server.rateLimit.rps/burst; the
 *     address comes through trusted proxies only; rps 0 turns off this
 *     bucket and nothing else). Every request spends it, failed
 *     authentications and CORS preflights included.
 *   → CORS (allow-list; a preflight is answered here, a refused one audited)
 *   → router (400 bad path, 404, 405 + Allow)
 *   → authentication, for non-public routes (auth.ts): Bearer, or the web
 *     remote's session cookie with the CSRF check (cookie-auth.ts); a
 *     locked-out address is refused before the secret is verified; a failure
 *     counts toward the lockout and is audited
 *   → scope (route scope vs token scope, read ⊂ control ⊂ admin)
 *   → handler (reads its JSON body itself: 64 KiB, application/json)
 *   → JSON answer (Cache-Control: no-store) or JSON error (respond.ts)
 *   → one line in the request log (log.ts)
 *
 * The web remote's pages and assets (web.ts, routes/web.ts) are public
 * routes in the same table, answered from memory.
 *
 * Handlers that answer synchronously (GET /api/status from the LiveState
 * snapshot) run with no timer and no fs access; asynchronous ones get the
 * 30 s request timeout.
 *
 * Audit: every request that changes something (control, tokens, invites,
 * pairing) and every denial (401, 403, 429, bad redeem/exchange, bad
 * artwork signature) is recorded with actor, address and request id.
 * Reads (status, players, volume, lists, browse, audit) are not audited: they
 * change nothing, and recording each would let any reader grow the log at
 * the rate limit. Denials that nothing else bounds go through a per-address
 * gate (audit-gate.ts): each is recorded up to 30 per address, kind and
 * minute, beyond that counted into one summary line; guesses are bounded by
 * the lockout and all recorded.
 */
import { watch, type FSWatcher } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { hostname } from 'node:os';
import type { Writable } from 'node:stream';
import { followAudit, openAuditLog, type AuditLog, type AuditQuery, type AuditRecord } from '../core/audit/log.js';
import type { AuditActor, AuditOutcome, AuditSink } from '../core/audit/types.js';
import type { Config } from '../core/config/store.js';
import { LocalController, type Controller } from '../core/control.js';
import { Callbacks } from '../core/callbacks.js';
import { ConfigError, isMediagateError } from '../core/errors.js';
import { InviteStore } from '../core/invites.js';
import { LiveState } from '../core/live.js';
import { stateDir as stateDirOf } from '../core/paths.js';
import { PlayerHub } from '../core/players/hub.js';
import type { MpdSource } from '../core/players/mpd.js';
import type { PlayerState } from '../core/players/types.js';
import { TokenStore, type AuditContext, type Principal, TOKENS_FILE } from '../core/tokens.js';
import { ArtworkSigner } from './artwork.js';
import { DenialGate } from './audit-gate.js';
import { ANONYMOUS, actorOf, Authenticator, denialSummary, type DenialContext } from './auth.js';
import { clearServeUrl, recordServeUrl } from '../core/serve-url.js';
import { cookiePolicy, SameOrigin } from './cookie-auth.js';
import { basePathOf, matchBasePath } from './base-path.js';
import { clientIp, rateLimitKey, TrustedProxies } from './client-ip.js';
import { CorsPolicy } from './cors.js';
import { FailureLockout } from './failure-lockout.js';
import { ApiError, sendApiError, sendJsonText } from './respond.js';
import { clientErrorAnswer, sendSocketError } from './socket-error.js';
import { readJsonBody } from './json-body.js';
import { logPath, RequestLog } from './log.js';
import { CREATION_LIMIT, perSecondLimiter, RateLimiter, SCRIPT_RUN_LIMIT } from './rate-limit.js';
import { newRequestId, requestIdFrom } from './request-id.js';
import { configureServerTimeouts, REQUEST_TIMEOUT_MS, startRequestTimeout } from './request-timeout.js';
import { routeError, Router } from './router.js';
import { ROUTES } from './routes/index.js';
import { openApiDocument } from './contract/openapi.js';
import { compileContracts, type RouteChecks } from './contract/validate.js';
import { wsMessagesDocument } from './contract/ws-messages.js';
import { HANDLED, RawJson, Reply, type ApiRoute, type App, type Call } from './routes/types.js';
import { deferHeader, secureResponseClass } from './security-headers.js';
import { StatusView } from './status-view.js';
import { checkedTlsOptions, DEFAULT_TLS_PROFILE, describeProfile, type TlsMaterial, type TlsProfile } from './tls.js';
import { openPolicy, type OpenPolicy } from './open-policy.js';
import { WebAssets } from './web.js';
import type { BrokerSettings } from '../core/mqtt/settings.js';
import type { MqttBridge } from './mqtt/bridge.js';

export { ROUTES, routeTable } from './routes/index.js';

/** Who the server itself is in the audit log (start, stop, first-start token). */
export const SERVER_ACTOR: AuditActor = Object.freeze({ id: 'system:serve', label: 'mediagate serve' });
/** How long shutdown waits for in-flight requests before cutting connections. */
export const SHUTDOWN_GRACE_MS = 5000;

export type { TlsMaterial } from './tls.js';

export interface ServerOptions {
  env: NodeJS.ProcessEnv;
  config: Config;
  host: string;
  port: number;
  tls?: TlsMaterial | undefined;
  /** Protocols and ciphers offered under TLS (tls.ts); default intermediate. */
  tlsProfile?: TlsProfile | undefined;
  /** Base URL for invite links; default: the config's server.publicUrl, else the address listened on. */
  publicUrl?: string | undefined;
  corsOrigins?: readonly string[];
  trustedProxies?: readonly string[];
  rateLimit?: { rps: number; burst: number };
  /** The MPD password, opened from its sealed form. */
  mpdPassword?: string | undefined;
  /** Request log (default process.stdout). */
  stdout?: Writable;
  /** Server messages (default process.stderr). */
  stderr?: Writable;
  requestTimeoutMs?: number;
  /** The MQTT bridge's broker (config mqtt.*, password opened); none: no bridge. */
  mqtt?: BrokerSettings | undefined;
}

/** The agreed interface of src/server/ws.ts (loaded when present). */
interface WsPrincipal { tokenId: string; label: string; scope: 'read' | 'control' | 'admin'; expiresAt?: string | null }
interface WsDeps {
  authenticate(secret: string, ip: string): WsPrincipal | null;
  cookieSecret?(req: IncomingMessage): string | null | undefined;
  stillValid(tokenId: string): boolean;
  onTokensChanged(listener: () => void): () => void;
  originAllowed(origin: string | undefined, req?: IncomingMessage): boolean;
  clientIp(req: IncomingMessage): string;
  isLocked(ip: string): boolean;
  lockRetryAfter?(ip: string): number;
  recordFailure(ip: string): void;
  auditDenied?(actor: AuditActor, action: string, ip: string, requestId: string, target: string, detail?: string): void;
  live: LiveState;
  controller: Controller;
  audit: AuditSink;
  statusJson(s: PlayerState): unknown;
  openPolicy?(): OpenPolicy;
  followAudit?(q: AuditQuery, onEvent: (r: AuditRecord) => void, opts: { backlog: number; onError: (e: Error) => void }): Promise<{ close(): void }>;
  log(line: string): void;
  rateLimit?(ip: string): { allowed: boolean; retryAfterSeconds: number };
  tls?: boolean;
}
interface WsHandle { close(): Promise<void>; count(): number; refreshStatus?(): void }
interface WsModule { attachWebSocket(server: Server, deps: WsDeps): WsHandle }

/** ws.ts is written separately; a build without it serves HTTP only. */
const WS_MODULE: string = './ws.js';
async function loadWs(): Promise<WsModule | null> {
  try {
    return (await import(WS_MODULE)) as WsModule;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_MODULE_NOT_FOUND' && /server[\\/]ws\.js/.test(err.message)) return null;
    throw e;
  }
}

export interface MediagateServer {
  readonly app: App;
  readonly server: Server;
  readonly tls: boolean;
  /** Bind; resolves with the address and base URL actually used. */
  listen(): Promise<{ host: string; port: number; url: string }>;
  /**
   * Install a new certificate and key for new handshakes (open connections
   * keep theirs). A pair that does not make a working context is refused and
   * the current one stays. Audited either way (server.tls_reload).
   */
  reloadTls(material: TlsMaterial): { ok: true } | { ok: false; error: string };
  /** Number of WebSocket clients (0 without ws.ts). */
  wsCount(): number;
  /** Graceful stop: see close() below. Safe to call twice. */
  close(): Promise<void>;
}

class RequestCall implements Call {
  constructor(
    readonly app: App,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly params: Record<string, string>,
    readonly query: URLSearchParams,
    readonly requestId: string,
    readonly ip: string,
    readonly principal: Principal | null,
    readonly target: string,
    private readonly checks: RouteChecks,
    readonly args: Readonly<Record<string, unknown>>,
  ) {}

  get actor(): AuditActor {
    return this.principal ? actorOf(this.principal) : ANONYMOUS;
  }

  async body(): Promise<Record<string, unknown>> {
    return this.checks.body(await readJsonBody(this.req, { optional: this.checks.bodyOptional }));
  }

  audit(action: string, outcome: AuditOutcome, target?: string, detail?: string): void {
    this.app.audit.append({ actor: this.actor, action, target, outcome, ip: this.ip, requestId: this.requestId, detail });
  }

  auditContext(): AuditContext {
    return { actor: this.actor, ip: this.ip, requestId: this.requestId };
  }
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Build everything (stores, players, live state, middleware); nothing listens until listen(). */
export async function createServer(opts: ServerOptions): Promise<MediagateServer> {
  const { env, config } = opts;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const tls = Boolean(opts.tls);
  const tlsProfile = opts.tlsProfile ?? DEFAULT_TLS_PROFILE;
  // Refuse bad settings before anything is opened or started.
  const cors = new CorsPolicy(opts.corsOrigins ?? []);
  const trusted = new TrustedProxies(opts.trustedProxies ?? []);
  const rl = opts.rateLimit ?? { rps: 20, burst: 40 };
  const general = perSecondLimiter(rl.rps, rl.burst, { name: 'server.rateLimit' });

  const stateDir = stateDirOf(env);
  const audit: AuditLog = openAuditLog(env);
  const tokens = new TokenStore({ env, audit });
  const lockout = new FailureLockout();
  const gate = new DenialGate<DenialContext>({ onSummary: (s) => audit.append(denialSummary(s)) });
  // The web remote's cookie: valid only from this server's own origins (the listen address is added in listen()).
  const publicUrl = opts.publicUrl ?? config.get<string>('server.publicUrl');
  // A sub-path public URL (https://host/mediagate) puts everything under that path (base-path.ts).
  const basePath = basePathOf(publicUrl);
  const cookies = { policy: cookiePolicy(tls, publicUrl), sameOrigin: new SameOrigin(tls, [opts.publicUrl, config.get<string>('server.publicUrl')]) };
  const auth = new Authenticator({ tokens, lockout, audit, gate, cookies });
  const web = WebAssets.load();
  const artwork = new ArtworkSigner({ basePath });
  const hub = new PlayerHub({ env, config, mpdPassword: opts.mpdPassword });
  const live = new LiveState(hub, { env, config, volume: true });
  // The server audits control actions per request (with caller, address and request id), so the controller gets no sink.
  // It acts on the player the live state knows: no listing of every player per request.
  const controller = new LocalController(env, config, { hub, known: live });
  const view = new StatusView(live, artwork);
  const router = new Router(ROUTES as ApiRoute[]);
  // Every route's request schemas, compiled once (a route without a contract stops the start here).
  const contracts = compileContracts(ROUTES);
  const documents = { openapi: JSON.stringify(openApiDocument(ROUTES)), websocket: JSON.stringify(wsMessagesDocument()) };
  const log = new RequestLog(stdout, new Set(ROUTES.filter((r) => !r.path.includes('{')).map((r) => r.path)));
  const ResponseClass = secureResponseClass({ tls });
  const timeoutMs = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const shutdown = new AbortController();

  const app: App = {
    env, config, stateDir, tokens,
    // Replaced in listen(), once the port (and so the default link base) is known.
    invites: new InviteStore({ env, audit, tokens, publicUrl: opts.publicUrl ?? config.get<string>('server.publicUrl') ?? 'http://127.0.0.1' }),
    audit, controller, live, view, auth, artwork, cookies, basePath, web, documents,
    creation: new RateLimiter({ ...CREATION_LIMIT, name: 'token/invite creation' }),
    scriptRuns: new RateLimiter({ ...SCRIPT_RUN_LIMIT, name: 'script runs' }),
    shutdown: shutdown.signal,
    mqttStatus: () => bridge?.status() ?? null,
  };
  let bridge: MqttBridge | null = null;

  let closing = false;
  let inflight = 0;
  let drained: (() => void) | null = null;

  const writeErr = (line: string): void => {
    try { stderr.write(`${line}\n`); } catch { /* stderr gone */ }
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    inflight++;
    const requestId = requestIdFrom(req.headers['x-request-id']);
    let actorLabel: string | undefined;
    try {
      // Security headers come with the response class (added at writeHead); the id too, deferred.
      deferHeader(res, 'x-request-id', requestId);
      // Node's own refusal of a Host-less HTTP/1.1 request has no body (requireHostHeader is off below): answer it here.
      if (req.headers.host === undefined && req.httpVersionMinor === 1) throw new ApiError(400, 'request.missing_host', 'an HTTP/1.1 request needs a Host header');
      const ip = clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted);
      const preflight = CorsPolicy.isPreflight(req);
      if (!preflight) cors.apply(req, res);
      // Preflights spend the bucket too: answering them costs the same as anything else.
      if (general.enabled) {
        const r = general.check(rateLimitKey(ip));
        if (!r.allowed) {
          auth.deniedGated(ANONYMOUS, 'rate_limit.exceeded', { ip, requestId, target: `${req.method} ${logPath(req.url)}` }, `more than ${rl.rps} requests/s (burst ${rl.burst})`);
          throw new ApiError(429, 'rate_limit.exceeded', 'too many requests from this address', { retryAfterSeconds: r.retryAfterSeconds, hint: 'slow down and retry after the number of seconds in Retry-After' });
        }
      }
      if (preflight) {
        cors.handlePreflight(req, res, requestId, (why) => {
          const origin = req.headers.origin === undefined ? 'no Origin' : `origin ${JSON.stringify(String(req.headers.origin).slice(0, 100))}`;
          auth.deniedGated(ANONYMOUS, 'cors.denied', { ip, requestId, target: `OPTIONS ${logPath(req.url)}` }, `preflight refused (${origin}): ${why}`);
        });
        return;
      }
      const where = matchBasePath(req.url, basePath);
      if (where.kind === 'bare') {
        // `/mediagate` → `/mediagate/`: the web remote's relative links resolve under the slash.
        res.writeHead(308, { location: `${basePath}/${(req.url ?? '').slice(basePath.length)}`, 'content-length': '0' });
        res.end();
        return;
      }
      const match = router.match(req.method, where.kind === 'inside' ? where.url : req.url);
      if (match.kind !== 'found') throw routeError(match)!;
      const route = match.route as ApiRoute;
      const target = `${route.method} ${route.path}`;
      let principal: Principal | null = null;
      if (route.scope !== 'public') {
        const facts = { ip, requestId, target };
        principal = auth.authenticate(req, match.query, facts);
        actorLabel = principal.label;
        auth.requireScope(principal, route.scope, facts);
      }
      const checks = contracts.get(route)!;
      checks.params(match.params);
      const call = new RequestCall(app, req, res, match.params, match.query, requestId, ip, principal, target, checks, checks.query(match.query));
      let result = route.handler(call);
      if (result instanceof Promise) {
        const timer = startRequestTimeout(res, { requestId, ms: timeoutMs });
        try {
          result = await result;
        } finally {
          timer.cancel();
        }
        if (timer.timedOut) return;
      }
      if (result === HANDLED || res.writableEnded) return;
      if (closing) res.shouldKeepAlive = false; // shutting down: this answer is the connection's last
      if (result instanceof RawJson) sendJsonText(res, 200, result.text);
      else if (result instanceof Reply) sendJsonText(res, result.status, JSON.stringify(result.body));
      else sendJsonText(res, 200, JSON.stringify(result ?? null));
    } catch (e) {
      if (closing) res.shouldKeepAlive = false;
      const r = sendApiError(res, e, requestId);
      if (r.status === 500 && !isMediagateError(e) && !(e instanceof ApiError)) {
        const err = e as Error;
        writeErr(`mediagate: request ${requestId} failed: ${err?.message ?? String(e)}${env.MEDIAGATE_DEBUG && err?.stack ? `\n${err.stack}` : ''}`);
      }
    } finally {
      log.request(req.method, req.url, res.statusCode, performance.now() - t0, requestId, actorLabel);
      inflight--;
      if (inflight === 0 && drained) drained();
    }
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => { void handle(req, res); };
  const server: Server = opts.tls
    ? (() => {
      try {
        return createHttpsServer({ ...checkedTlsOptions(opts.tls, tlsProfile), ServerResponse: ResponseClass, requireHostHeader: false }, onRequest) as unknown as Server;
      } catch (e) {
        throw new ConfigError(`cannot use the TLS certificate and key: ${(e as Error).message}`,
          'check server.tlsCert / server.tlsKey (PEM files) and, for an encrypted key, server.tlsKeyPassphrase', 'config.tls_invalid');
      }
    })()
    : createHttpServer({ ServerResponse: ResponseClass, requireHostHeader: false }, onRequest) as unknown as Server;
  configureServerTimeouts(server);
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Malformed requests, TLS garbage, header timeouts: a JSON error if we still can answer, never log secrets.
    // A request still in flight on this connection whose answer has not started is abandoned
    // (the connection is broken from here on), as node itself does: the client gets this error instead of silence.
    socket.on('error', () => {});
    const inFlight = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
    if (socket.writable && (!inFlight || !inFlight.headersSent)) {
      sendSocketError(socket, clientErrorAnswer(err), newRequestId(), tls);
    } else {
      socket.destroy();
    }
  });
  // CONNECT (proxy tunnels) is not ours to serve; without a listener node would drop the socket unanswered.
  server.on('connect', (req: IncomingMessage, socket) => {
    socket.on('error', () => {});
    sendSocketError(socket, new ApiError(405, 'route.method_not_allowed', 'CONNECT is not supported here'), requestIdFrom(req.headers['x-request-id']), tls);
  });

  // tokens.json changes (CLI revocations, our own writes): tell the WebSocket side, event-driven.
  const tokenListeners = new Set<() => void>();
  let tokenWatcher: FSWatcher | null = null;
  let tokenTimer: NodeJS.Timeout | null = null;
  const notifyTokens = (): void => {
    auth.tokensChanged();
    for (const l of [...tokenListeners]) {
      try { l(); } catch { /* a listener must not break the others */ }
    }
  };
  const watchTokens = (): void => {
    if (tokenWatcher || closing) return;
    try {
      tokenWatcher = watch(stateDir, { persistent: false }, (_event, name) => {
        if (name !== null && name !== TOKENS_FILE) return;
        auth.tokensChanged();
        if (tokenTimer) return;
        tokenTimer = setTimeout(() => { tokenTimer = null; notifyTokens(); }, 20);
        tokenTimer.unref();
      });
      tokenWatcher.on('error', () => { tokenWatcher?.close(); tokenWatcher = null; });
    } catch (e) {
      writeErr(`mediagate: warning: cannot watch ${TOKENS_FILE} for changes (${(e as Error).message}); revoked tokens still fail on their next request, but open WebSockets are only re-checked when they send a command`);
    }
  };

  // Start watching players and the mixer (event-driven) before the first request,
  // and the owner's callbacks (scripts run on play/pause/stop/track/volume changes).
  await live.start();
  const callbacks = new Callbacks({
    live, config, audit, env,
    onRun: (event, o) => {
      const what = o.error ? `failed: ${o.error.message}` : o.result ? (o.result.timedOut ? 'timed out' : `exit ${o.result.exitCode ?? o.result.signal}`) : 'done';
      writeErr(`mediagate: callback ${event}: ${what}`);
    },
  });
  try {
    callbacks.start();
  } catch (e) {
    await live.stop();
    await controller.close();
    await audit.close();
    throw e;
  }

  // A WebSocket upgrade at the public sub-path (a proxy that passes it on) is /api/ws too.
  if (basePath !== '') {
    server.prependListener('upgrade', (req: IncomingMessage) => {
      const where = matchBasePath(req.url, basePath);
      if (where.kind === 'inside') req.url = where.url;
    });
  }
  let ws: WsHandle | null = null;
  const wsModule = await loadWs();
  if (wsModule) {
    ws = wsModule.attachWebSocket(server, {
      authenticate(secret, _ip) {
        const r = tokens.resolveToken(secret);
        return r.ok ? { tokenId: r.principal.id, label: r.principal.label, scope: r.principal.scope, expiresAt: r.principal.expiresAt } : null;
      },
      stillValid: (id) => tokens.get(id)?.status === 'active',
      onTokensChanged(listener) {
        tokenListeners.add(listener);
        watchTokens();
        return () => { tokenListeners.delete(listener); };
      },
      // The allow-list, plus this server's own origin (the web remote's page).
      originAllowed: (origin, req) => cors.originAllowed(origin) || (req !== undefined && cookies.sameOrigin.isSelf(origin, req.headers.host)),
      cookieSecret: (req) => cookies.sameOrigin.wsCookie(req, cookies.policy.name),
      clientIp: (req) => clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted),
      isLocked: (ip) => lockout.isLocked(ip).locked,
      lockRetryAfter: (ip) => lockout.isLocked(ip).retryAfterSeconds,
      recordFailure: (ip) => { lockout.recordFailure(ip); },
      auditDenied: (actor, action, ip, requestId, target, detail) => auth.deniedGated(actor, action, { ip, requestId, target }, detail),
      live,
      controller,
      audit,
      statusJson: (s) => view.json(s),
      openPolicy: () => openPolicy(config),
      followAudit: (q, onEvent, opts) => followAudit(stateDir, q, onEvent, opts),
      log: (line) => log.line(line),
      ...(general.enabled ? { rateLimit: (ip: string) => general.check(rateLimitKey(ip)) } : {}),
      tls,
    });
  }

  // The MQTT bridge (mqtt.url set): fed by the same LiveState events; serve runs on while the broker is down.
  if (opts.mqtt) {
    const { startBridge } = await import('./mqtt/bridge.js');
    const { deviceId } = await import('../core/mqtt/device-id.js');
    bridge = await startBridge({ settings: opts.mqtt, live, controller, audit, artwork, env, deviceId: deviceId(env), log: writeErr });
  }

  // MPD's cover art: read from MPD when a new song is shown; once a song is known to have one,
  // status answers are renewed and pushed again with the link (artwork.ts).
  artwork.setMpdReader(async (maxBytes) => {
    const mpd = (await controller.hub.openSources('mpd')).find((s): s is MpdSource => s.backend === 'mpd');
    return mpd ? mpd.currentArtwork(maxBytes) : null;
  }, () => {
    view.invalidate();
    ws?.refreshStatus?.();
  });

  let closed: Promise<void> | null = null;
  let listening = false;

  return {
    app,
    server,
    tls,
    wsCount: () => ws?.count() ?? 0,

    reloadTls(material) {
      if (!tls) return { ok: false, error: 'this server does not use TLS' };
      try {
        (server as unknown as HttpsServer).setSecureContext(checkedTlsOptions(material, tlsProfile));
      } catch (e) {
        const error = (e as Error).message;
        audit.append({ actor: SERVER_ACTOR, action: 'server.tls_reload', outcome: 'error', detail: `kept the current certificate: ${error}`.slice(0, 300) });
        return { ok: false, error };
      }
      audit.append({ actor: SERVER_ACTOR, action: 'server.tls_reload', outcome: 'ok', detail: 'new certificate and key for new connections' });
      return { ok: true };
    },

    listen() {
      return new Promise((resolve, reject) => {
        const onError = (e: NodeJS.ErrnoException) => {
          server.off('listening', onListening);
          if (e.code === 'EADDRINUSE') reject(new ConfigError(`cannot listen on ${urlHost(opts.host)}:${opts.port}: the address is already in use`, 'stop the other server or choose another --port', 'server.address_in_use'));
          else if (e.code === 'EACCES') reject(new ConfigError(`cannot listen on ${urlHost(opts.host)}:${opts.port}: permission denied`, 'ports below 1024 need privileges; choose a --port above 1024', 'server.address_denied'));
          else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') reject(new ConfigError(`cannot listen on ${urlHost(opts.host)}: no such local address`, 'use an address of this machine, e.g. 127.0.0.1 or 0.0.0.0', 'server.address_invalid'));
          else reject(e);
        };
        const onListening = () => {
          server.off('error', onError);
          listening = true;
          const a = server.address();
          const port = typeof a === 'object' && a ? a.port : opts.port;
          const host = typeof a === 'object' && a ? a.address : opts.host;
          const url = `${tls ? 'https' : 'http'}://${urlHost(host)}:${port}`;
          const unspecified = host === '0.0.0.0' || host === '::';
          const base = opts.publicUrl ?? config.get<string>('server.publicUrl') ?? (unspecified ? `${tls ? 'https' : 'http'}://${hostname()}:${port}` : url);
          app.invites = new InviteStore({ env, audit, tokens, publicUrl: base });
          cookies.sameOrigin.add(url);
          cookies.sameOrigin.add(base);
          recordServeUrl(env, base);
          watchTokens();
          audit.append({ actor: SERVER_ACTOR, action: 'server.start', target: url, outcome: 'ok', detail: `${tls ? `TLS ${describeProfile(tlsProfile)}` : 'plain HTTP'}, rate limit ${general.enabled ? `${rl.rps}/s burst ${rl.burst}` : 'off'}` });
          resolve({ host, port, url });
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen({ host: opts.host, port: opts.port, exclusive: true });
      });
    },

    /**
     * Stop accepting connections; close WebSockets (1001); let in-flight
     * requests finish (at most SHUTDOWN_GRACE_MS, then connections are cut);
     * stop the live state and its child processes; write pending token
     * lastSeenAt and the audit log. Resolves when everything is closed.
     */
    close() {
      if (closed) return closed;
      closing = true;
      closed = (async () => {
        try {
          if (listening) server.close();
          server.closeIdleConnections();
          if (ws) await ws.close().catch((e: Error) => writeErr(`mediagate: warning: closing WebSockets: ${e.message}`));
          if (inflight > 0) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, SHUTDOWN_GRACE_MS);
              drained = () => { clearTimeout(timer); resolve(); };
            });
          }
          server.closeIdleConnections();
          server.closeAllConnections();
        } finally {
          if (tokenTimer) clearTimeout(tokenTimer);
          tokenWatcher?.close();
          tokenListeners.clear();
          view.close();
          shutdown.abort();
          await bridge?.close().catch((e: Error) => writeErr(`mediagate: warning: closing the MQTT bridge: ${e.message}`));
          await callbacks.stop().catch(() => {});
          await live.stop().catch(() => {});
          await controller.close().catch(() => {});
          general.close();
          lockout.close();
          app.creation.close();
          app.scriptRuns.close();
          gate.clear();
          await tokens.flush();
          log.close();
          if (listening) {
            clearServeUrl(env);
            audit.append({ actor: SERVER_ACTOR, action: 'server.stop', outcome: 'ok' });
          }
          await audit.close();
        }
      })();
      return closed;
    },
  };
}
