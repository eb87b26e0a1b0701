/**
 * The route table: every route with its method, path and scope. The router
 * refuses to build a route without a valid scope; test/serve-routes.test.js
 * checks the table (and that each non-public route refuses a request
 * without a token).
 *
 * | method | path                          | scope   |
 * |--------|-------------------------------|---------|
 * | GET    | /api/health                   | public  |
 * | GET    | /api/artwork                  | public (HMAC-signed URL) |
 * | POST   | /api/auth/redeem              | public (failure lockout) |
 * | POST   | /api/auth/exchange            | public (failure lockout) |
 * | GET    | /api/auth/whoami              | read    |
 * | POST   | /api/auth/logout              | read    |
 * | GET    | /api/status                   | read    |
 * | GET    | /api/players                  | read    |
 * | GET    | /api/volume                   | read    |
 * | PUT    | /api/volume                   | control |
 * | POST   | /api/player/{play,pause,toggle,stop,next,previous} | control |
 * | POST   | /api/player/seek              | control |
 * | POST   | /api/player/{shuffle,repeat}  | control |
 * | POST   | /api/player/open              | control + config server.openScope (default admin), checked inside |
 * | GET    | /api/metadata                 | read    |
 * | GET    | /api/queue                    | read    |
 * | GET    | /api/media/browse             | read    |
 * | POST   | /api/media/play               | control |
 * | GET    | /api/scripts                  | read    |
 * | POST   | /api/scripts/{name}/run       | read + the script's own scope, checked inside |
 * | GET    | /api/tokens                   | admin   |
 * | POST   | /api/tokens                   | admin   |
 * | DELETE | /api/tokens/{idOrLabel}       | admin   |
 * | POST   | /api/tokens/{id}/rotate       | admin   |
 * | GET    | /api/invites                  | admin   |
 * | POST   | /api/invites                  | admin   |
 * | DELETE | /api/invites/{id}             | admin   |
 * | POST   | /api/invites/{id}/rotate      | admin   |
 * | GET    | /api/audit                    | admin   |
 * | GET    | /api/audit/verify             | admin   |
 * | GET    | /api/mqtt                     | admin   |
 * | GET    | /, /connect                   | public (web remote pages; data via the API) |
 * | GET    | /manifest.webmanifest, /assets/{file} | public (web remote files) |
 *
 * WebSocket /api/ws (ws.ts) authenticates on upgrade; its messages declare
 * their own scopes.
 */
import { ADMIN_ROUTES } from './admin.js';
import { AUTH_ROUTES } from './auth.js';
import { MEDIA_ROUTES } from './media.js';
import { MQTT_ROUTES } from './mqtt.js';
import { PLAYER_OPTION_ROUTES } from './player-options.js';
import { PLAYER_ROUTES } from './player.js';
import { PUBLIC_ROUTES } from './public.js';
import type { ApiRoute } from './types.js';
import { WEB_ROUTES } from './web.js';

export const ROUTES: readonly ApiRoute[] = Object.freeze([
  ...PUBLIC_ROUTES,
  ...AUTH_ROUTES,
  ...PLAYER_ROUTES,
  ...PLAYER_OPTION_ROUTES,
  ...MEDIA_ROUTES,
  ...ADMIN_ROUTES,
  ...MQTT_ROUTES,
  ...WEB_ROUTES,
]);

/** Method, path and scope of every route (no handlers), for docs and tests. */
export function routeTable(): Array<{ method: string; path: string; scope: string; scopeCheckedInHandler?: string }> {
  return ROUTES.map((r) => ({ method: r.method, path: r.path, scope: r.scope, ...(r.scopeCheckedInHandler ? { scopeCheckedInHandler: r.scopeCheckedInHandler } : {}) }));
}
