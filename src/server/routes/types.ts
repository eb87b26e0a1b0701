/**
 * What a route handler sees (Call) and what it can reach (App).
 *
 * A handler returns the JSON value to answer with 200, a Reply for another
 * status, RawJson for a body that is already serialised, or HANDLED when it
 * wrote the response itself (artwork). It throws MediagateError / HttpError
 * for errors; the app turns them into the JSON error answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditLog } from '../../core/audit/log.js';
import type { AuditActor, AuditOutcome } from '../../core/audit/types.js';
import type { Config } from '../../core/config/store.js';
import type { Controller } from '../../core/control.js';
import type { InviteStore } from '../../core/invites.js';
import type { LiveState } from '../../core/live.js';
import type { AuditContext, Principal, TokenStore } from '../../core/tokens.js';
import type { ArtworkSigner } from '../artwork.js';
import type { Authenticator } from '../auth.js';
import type { CookiePolicy, SameOrigin } from '../cookie-auth.js';
import type { WebAssets } from '../web.js';
import type { RateLimiter } from '../rate-limit.js';
import type { Schema } from '../contract/json-schema.js';
import type { Route } from '../router.js';
import type { StatusView } from '../status-view.js';
import type { BridgeStatus } from '../mqtt/bridge.js';

export interface App {
  env: NodeJS.ProcessEnv;
  config: Config;
  stateDir: string;
  tokens: TokenStore;
  invites: InviteStore;
  audit: AuditLog;
  controller: Controller;
  live: LiveState;
  view: StatusView;
  auth: Authenticator;
  artwork: ArtworkSigner;
  /** The web remote's cookie: its name and attributes, and this server's own origins (for the CSRF check). */
  cookies: { policy: CookiePolicy; sameOrigin: SameOrigin };
  /** The path of server.publicUrl ('' at the root, '/mediagate'): links the server makes start with it. */
  basePath: string;
  /** GET /api/openapi.json and /api/ws-messages.json, serialised once at start. */
  documents: { openapi: string; websocket: string };
  /** The web remote's pages and assets (null when dist/web was not built). */
  web: WebAssets | null;
  /** Token and invite creation: 5 a minute per principal. */
  creation: RateLimiter;
  /** Script runs: 10 a minute per principal. */
  scriptRuns: RateLimiter;
  /** Aborts when the server shuts down (running scripts are ended). */
  shutdown: AbortSignal;
  /** The MQTT bridge's state (null when mqtt.url is not set). */
  mqttStatus(): BridgeStatus | null;
}

export interface Call {
  readonly app: App;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly requestId: string;
  /** The client address (trusted proxies applied). */
  readonly ip: string;
  /** null on public routes. */
  readonly principal: Principal | null;
  /** `token:<id>` + label, or anonymous. */
  readonly actor: AuditActor;
  /** `METHOD /api/route/{pattern}`, for the audit log. */
  readonly target: string;
  /**
   * The JSON object body (64 KiB, application/json), checked against the
   * route's `contract.request.body` (422 naming the field otherwise). An
   * empty body is {} when the contract says `required: false`.
   */
  body(): Promise<Record<string, unknown>>;
  /** The query parameters the route's contract declares, checked and typed (integers, flags); absent ones are missing. */
  readonly args: Readonly<Record<string, unknown>>;
  /** Record an event as this caller, with address and request id. */
  audit(action: string, outcome: AuditOutcome, target?: string, detail?: string): void;
  /** actor + ip + request id, for core stores that audit themselves. */
  auditContext(): AuditContext;
}

export type Handler = (c: Call) => unknown;

/** A non-200 answer. */
export class Reply {
  constructor(readonly status: number, readonly body: unknown) {}
}

/** A JSON body that is already text. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** The handler wrote the response itself. */
export const HANDLED = Symbol('handled');

/**
 * What a route takes and answers: the one description the server checks
 * requests with (contract/validate.ts) and publishes as OpenAPI 3.1
 * (contract/openapi.ts, GET /api/openapi.json), and that the tests check
 * every real answer against. Every route must have one (the route-table test
 * fails otherwise).
 *
 * Adding a route — give it a `contract`:
 *
 *   { method: 'POST', path: '/api/player/shuffle', scope: 'control', handler: shuffle,
 *     contract: {
 *       summary: 'Turn shuffle on or off',
 *       request: { body: { schema: obj({ on: bool(), player: PLAYER }, ['on']) } },
 *       answers: { 200: json('ShuffleDone') },            // a schema in contract/answers.ts
 *       errors: { 404: 'no such player', 409: 'the player cannot shuffle', 503: 'no player' },
 *     } }
 *
 * - builders (obj, str, int, bool, oneOfStrings, exactlyOne…) are in
 *   contract/json-schema.ts; answer shapes are named in contract/answers.ts
 *   (closed: list every field the handler answers);
 * - the handler reads `await c.body()` and `c.args` — already checked, so it
 *   needs no checks of its own for what the schema says;
 * - `errors` lists only the route's own error statuses: 400 (malformed),
 *   429 (rate limit), 401/403 (non-public routes) and 413/415/422 (routes
 *   with a body or query) are added from the scope and the request.
 */
export interface RouteContract {
  summary: string;
  description?: string;
  request?: {
    /** The JSON body; `required: false` lets an empty body stand for {}. */
    body?: { schema: Schema; required?: boolean };
    /** One schema per query parameter (values arrive as text: integers and booleans are converted first). */
    query?: Readonly<Record<string, Schema>>;
    /** Path parameters (`{name}` in the path); a non-empty string when not given. */
    params?: Readonly<Record<string, Schema>>;
  };
  /** Success answers by status. */
  answers: Readonly<Record<number, Answer>>;
  /** This route's own error statuses and when they happen. */
  errors?: Readonly<Record<number, string>>;
}

/** A JSON answer (`json`: a schema name in contract/answers.ts, or a schema), another media type, or no body. */
export type Answer =
  | { description?: string; json: string | Schema }
  | { description: string; media: string }
  | { description: string; empty: true };

export interface ApiRoute extends Route<Handler> {
  readonly contract: RouteContract;
  /**
   * Set on the one route whose real scope is decided inside the handler:
   * POST /api/scripts/{name}/run declares the minimum ('read') and checks the
   * script's own scope (default admin) before running anything.
   */
  readonly scopeCheckedInHandler?: string;
}
