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
import type { SameOrigin } from '../cookie-auth.js';
import type { WebAssets } from '../web.js';
import type { RateLimiter } from '../rate-limit.js';
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
  /** The web remote's cookie: its name, TLS, and this server's own origins (for the CSRF check). */
  cookies: { name: string; tls: boolean; sameOrigin: SameOrigin };
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
  /** The JSON object body (64 KiB, application/json). `optional`: an empty body is {}. */
  body(opts?: { optional?: boolean }): Promise<Record<string, unknown>>;
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

export interface ApiRoute extends Route<Handler> {
  /**
   * Set on the one route whose real scope is decided inside the handler:
   * POST /api/scripts/{name}/run declares the minimum ('read') and checks the
   * script's own scope (default admin) before running anything.
   */
  readonly scopeCheckedInHandler?: string;
}
