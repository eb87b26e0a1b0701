/**
 * Shuffle, repeat and open (control), and the track reads metadata and queue
 * (read): the same Controller calls and JSON as `play shuffle|repeat|open
 * --json` and `play metadata|queue --json`. Changes are audited as the
 * caller, ok or error, like the other control routes.
 *
 * Opening a URI makes this machine fetch whatever it names, so it needs the
 * scope of config server.openScope (admin unless lowered to control), and
 * only the schemes of config server.openSchemes (http, https by default) are
 * taken — never a plain path: files are played through the media folders
 * (POST /api/media/play), which confine them.
 */
import type { RepeatMode } from '../../core/players/types.js';
import { auditUri, checkUri, MAX_URI_LENGTH } from '../../core/players/uri.js';
import { IGNORE, IGNORE_QUERY, json, PLAYER } from '../contract/fields.js';
import { obj, oneOfStrings, str, X_ERROR, type Schema } from '../contract/json-schema.js';
import { openPolicy, openRefusal } from '../open-policy.js';
import { audited, requestedPlayer } from './player.js';
import type { ApiRoute, Call, RouteContract } from './types.js';

async function shuffle(c: Call) {
  const body = await c.body();
  const value = body.shuffle as boolean | 'toggle';
  const player = requestedPlayer(c, body);
  const detail = value === 'toggle' ? 'toggle' : value ? 'on' : 'off';
  const r = await audited(c, 'player.shuffle', player, detail, () => c.app.controller.setShuffle(value, player), (x) => x.player);
  c.app.view.invalidate();
  return { ok: true, player: r.player, action: 'shuffle', shuffle: r.shuffle };
}

async function repeat(c: Call) {
  const body = await c.body();
  const mode = body.repeat as RepeatMode | 'toggle';
  const player = requestedPlayer(c, body);
  const r = await audited(c, 'player.repeat', player, mode, () => c.app.controller.setRepeat(mode, player), (x) => x.player);
  c.app.view.invalidate();
  return { ok: true, player: r.player, action: 'repeat', repeat: r.repeat };
}

/**
 * POST /api/player/open {uri, player?}: the caller's scope first (before the
 * body is read), then the server's scheme allow-list, then the player's own
 * schemes (its refusal names them). Refusals of the first two are audited
 * as denied, with the URI cut to scheme, host and path.
 */
async function open(c: Call) {
  const policy = openPolicy(c.app.config);
  const have = c.principal!.scope;
  const forbidden = openRefusal(policy, have);
  if (forbidden) {
    c.audit('player.open', 'denied', undefined, `auth.insufficient_scope (needs ${policy.scope}, token has ${have})`);
    throw forbidden;
  }
  const body = await c.body();
  const uri = checkUri(body.uri);
  const detail = auditUri(uri);
  const refused = openRefusal(policy, have, uri);
  if (refused) {
    c.audit('player.open', 'denied', undefined, `${refused.code} ${detail}`);
    throw refused;
  }
  const player = requestedPlayer(c, body);
  const r = await audited(c, 'player.open', player, detail, () => c.app.controller.open(uri, player), (x) => x.player);
  c.app.view.invalidate();
  return { ok: true, player: r.player, action: 'open', uri: r.uri };
}

async function metadata(c: Call) {
  const r = await c.app.controller.metadata(requestedPlayer(c));
  return { player: r.player, metadata: r.metadata };
}

async function queue(c: Call) {
  const r = await c.app.controller.queue(requestedPlayer(c));
  return { player: r.player, queue: r.queue };
}

const PLAYER_QUERY = { player: PLAYER, ignore: IGNORE_QUERY };
const ERRORS = { 404: 'no such player', 409: 'the player cannot do that (player.unsupported)', 503: 'no player, or it did not answer in time' };

/** A control route's contract: its own body fields beside `player` and `ignore`. */
function control(summary: string, fields: Record<string, Schema>, answer: string, errors: Record<number, string> = ERRORS): RouteContract {
  return {
    summary,
    request: { body: { schema: obj({ ...fields, player: PLAYER, ignore: IGNORE }, Object.keys(fields)) }, query: PLAYER_QUERY },
    answers: { 200: json(answer) },
    errors,
  };
}

const SHUFFLE = control('Turn shuffle on, off, or toggle it', {
  shuffle: { anyOf: [{ type: 'boolean' }, { const: 'toggle' }], description: 'true, false or "toggle"', [X_ERROR]: { message: 'must be true, false or "toggle"' } },
}, 'Shuffled', { ...ERRORS, 409: 'the player cannot shuffle (player.unsupported), or kept its old value (player.not_applied)' });

const REPEAT = control('Set the repeat mode, or step it (off → playlist → track → off)', {
  repeat: oneOfStrings(['off', 'track', 'playlist', 'toggle'], { description: 'a mode, or "toggle" to step it', [X_ERROR]: { message: 'must be "off", "track", "playlist" or "toggle"' } }),
}, 'Repeated', { ...ERRORS, 409: 'the player has no repeat mode (player.unsupported), or kept its old one (player.not_applied)' });

const OPEN = control('Open a URI on the player and play it', {
  uri: str(MAX_URI_LENGTH, {
    description: 'a URI of a scheme both config server.openSchemes (http, https by default) and the player take; one line. Files are played through POST /api/media/play',
    [X_ERROR]: { code: 'usage.invalid_uri', message: `must be a URI of 1–${MAX_URI_LENGTH} characters` },
  }),
}, 'Opened', {
  403: 'the token\'s scope is below config server.openScope (default admin), or the scheme is not in server.openSchemes',
  ...ERRORS,
  409: 'the player does not open this scheme (player.unsupported_scheme; the message names those it opens)',
});

function read(summary: string, answer: string, errors: Record<number, string> = ERRORS): RouteContract {
  return { summary, request: { query: PLAYER_QUERY }, answers: { 200: json(answer) }, errors };
}

export const PLAYER_OPTION_ROUTES: ApiRoute[] = [
  { method: 'GET', path: '/api/metadata', scope: 'read', handler: metadata, contract: read('Every raw metadata key of the current track (xesam:*, mpris:*, the player\'s own), as `play metadata --json`', 'Metadata') },
  { method: 'GET', path: '/api/queue', scope: 'read', handler: queue, contract: read('The player\'s queue, the current entry marked', 'Queue', { ...ERRORS, 409: 'the player has no queue it shows (player.unsupported)' }) },
  { method: 'POST', path: '/api/player/shuffle', scope: 'control', handler: shuffle, contract: SHUFFLE },
  { method: 'POST', path: '/api/player/repeat', scope: 'control', handler: repeat, contract: REPEAT },
  {
    method: 'POST', path: '/api/player/open', scope: 'control', handler: open, contract: OPEN,
    scopeCheckedInHandler: "config server.openScope (default admin) is checked before the body is read — the server fetches what the URI names; 'control' is only the minimum",
  },
];
