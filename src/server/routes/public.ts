/**
 * Public routes: no token. Health says only that the server answers; the
 * artwork route is authenticated by its URL's HMAC signature instead of a
 * token (see artwork.ts), and answers only the CURRENT artwork of a player.
 */
import { ArtworkSigner } from '../artwork.js';
import { ANONYMOUS } from '../auth.js';
import { ApiError } from '../respond.js';
import { json } from '../contract/fields.js';
import { OPENAPI_PATH, WS_SCHEMA_PATH } from '../contract/openapi.js';
import { HANDLED, RawJson, type ApiRoute, type Call } from './types.js';

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

const LINK_PART = { type: 'string', maxLength: 256 } as const;

export const PUBLIC_ROUTES: ApiRoute[] = [
  {
    method: 'GET', path: '/api/health', scope: 'public', handler: health,
    contract: { summary: 'Whether the server answers (nothing more)', answers: { 200: json('Health') } },
  },
  {
    method: 'GET', path: OPENAPI_PATH, scope: 'public', handler: (c: Call) => new RawJson(c.app.documents.openapi),
    contract: { summary: 'This document: the HTTP API as OpenAPI 3.1', answers: { 200: { json: { type: 'object' }, description: 'the OpenAPI 3.1 document' } } },
  },
  {
    method: 'GET', path: WS_SCHEMA_PATH, scope: 'public', handler: (c: Call) => new RawJson(c.app.documents.websocket),
    contract: {
      summary: 'The WebSocket protocol of /api/ws: a JSON Schema for each client and server message',
      answers: { 200: { json: { type: 'object' }, description: 'a JSON Schema (2020-12) document whose $defs are the messages' } },
    },
  },
  {
    method: 'GET', path: '/api/artwork', scope: 'public', handler: artwork,
    contract: {
      summary: 'The current artwork of a player, by the signed link in a status answer',
      description: 'The link (`artwork` in GET /api/status, short-lived, HMAC-signed) is the credential: no token. Answers only the artwork that is current now; ETag, 304 on If-None-Match.',
      request: { query: { player: LINK_PART, a: LINK_PART, exp: LINK_PART, sig: LINK_PART } },
      answers: { 200: { description: 'the image', media: 'image/*' }, 304: { description: 'not modified (If-None-Match)', empty: true } },
      errors: { 403: 'the link\'s signature is wrong or it has expired', 404: 'the artwork is no longer current, or cannot be read', 415: 'the artwork file is not a PNG, JPEG, WebP or GIF image' },
    },
  },
];
