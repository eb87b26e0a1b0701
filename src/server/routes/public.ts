/**
 * Public routes: no token. Health says only that the server answers; the
 * artwork route is authenticated by its URL's HMAC signature instead of a
 * token (see artwork.ts), and answers only the CURRENT artwork of a player.
 */
import { ArtworkSigner } from '../artwork.js';
import { ANONYMOUS } from '../auth.js';
import { ApiError } from '../respond.js';
import { HANDLED, type ApiRoute, type Call } from './types.js';

const HEALTH = { ok: true };

function health() {
  return HEALTH;
}

async function artwork(c: Call) {
  let verified: { player: string; id: string };
  try {
    verified = c.app.artwork.verify(c.query, Date.now());
  } catch (e) {
    c.app.auth.deniedGated(ANONYMOUS, 'artwork.bad_signature', { ip: c.ip, requestId: c.requestId, target: c.target }, (e as Error).message);
    throw e;
  }
  const { player, id } = verified;
  const state = c.app.live.snapshot().players.find((s) => s.player === player);
  if (!c.app.artwork.isCurrent(state, id)) {
    throw new ApiError(404, 'artwork.not_found', 'this artwork is no longer current', { hint: 'get a fresh link from GET /api/status' });
  }
  const img = ArtworkSigner.fromMpd(state) ? await c.app.artwork.loadMpd(id) : await c.app.artwork.load(state.artUrl!);
  ArtworkSigner.send(c.res, img, c.req.headers['if-none-match']);
  return HANDLED;
}

export const PUBLIC_ROUTES: ApiRoute[] = [
  { method: 'GET', path: '/api/health', scope: 'public', handler: health },
  { method: 'GET', path: '/api/artwork', scope: 'public', handler: artwork },
];
