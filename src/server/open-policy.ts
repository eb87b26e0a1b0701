/**
 * Who may make this machine open a URI over the API (POST /api/player/open,
 * the WebSocket open command), and which URIs: opening one makes the player
 * fetch whatever it names, so the owner decides — config server.openScope
 * (admin unless lowered to control) and server.openSchemes (http, https by
 * default). A plain path is never taken: files are played through the
 * media folders, which confine them.
 */
import type { Config } from '../core/config/store.js';
import { AuthError, type MediagateError } from '../core/errors.js';
import { schemeOf, unsupportedScheme } from '../core/players/uri.js';
import { scopeAllows, type Scope } from '../core/scopes.js';

export interface OpenPolicy {
  scope: Scope;
  schemes: readonly string[];
}

export function openPolicy(config: Config): OpenPolicy {
  return {
    scope: config.get<string>('server.openScope') === 'control' ? 'control' : 'admin',
    schemes: config.get<string[]>('server.openSchemes') ?? ['http', 'https'],
  };
}

/**
 * Why a caller holding `have` may not open `uri` here (AuthError
 * `auth.insufficient_scope`, or `player.unsupported_scheme` naming the
 * schemes taken), or undefined. Without `uri` only the scope is judged.
 */
export function openRefusal(policy: OpenPolicy, have: Scope, uri?: string): MediagateError | undefined {
  if (!scopeAllows(have, policy.scope)) {
    return new AuthError(`opening a URI needs the ${policy.scope} scope (config server.openScope); this token has ${have}`,
      'the server fetches what a URI names, so its owner decides who may; ask for a token with that scope', 'auth.insufficient_scope');
  }
  if (uri === undefined) return undefined;
  const scheme = schemeOf(uri);
  if (scheme !== undefined && policy.schemes.includes(scheme)) return undefined;
  return unsupportedScheme('this server', scheme, policy.schemes, 'or ask its owner to add the scheme to server.openSchemes');
}

/** The policy without config: admin scope, http and https. */
export const DEFAULT_OPEN_POLICY: OpenPolicy = Object.freeze({ scope: 'admin', schemes: Object.freeze(['http', 'https']) });
