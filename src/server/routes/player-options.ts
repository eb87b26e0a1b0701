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
import { UsageError } from '../../core/errors.js';
import { REPEAT_MODES } from '../../core/players/options.js';
import type { RepeatMode } from '../../core/players/types.js';
import { auditUri, checkUri, MAX_URI_LENGTH } from '../../core/players/uri.js';
import { openPolicy, openRefusal } from '../open-policy.js';
import { reqString } from './input.js';
import { audited, requestedPlayer } from './player.js';
import type { ApiRoute, Call } from './types.js';

const invalid = (field: string, what: string) => new UsageError(`invalid field '${field}': ${what}`, undefined, 'usage.invalid_field');

/** `{shuffle: true | false | "toggle"}`. */
export function shuffleOf(b: Record<string, unknown>): boolean | 'toggle' {
  const v = b.shuffle;
  if (v === true || v === false || v === 'toggle') return v;
  throw invalid('shuffle', 'must be true, false or "toggle"');
}

/** `{repeat: "off" | "track" | "playlist" | "toggle"}`. */
export function repeatOf(b: Record<string, unknown>): RepeatMode | 'toggle' {
  const v = b.repeat;
  if (v === 'toggle' || (REPEAT_MODES as readonly unknown[]).includes(v)) return v as RepeatMode | 'toggle';
  throw invalid('repeat', 'must be "off", "track", "playlist" or "toggle"');
}

async function shuffle(c: Call) {
  const body = await c.body();
  const value = shuffleOf(body);
  const player = requestedPlayer(c, body);
  const detail = value === 'toggle' ? 'toggle' : value ? 'on' : 'off';
  const r = await audited(c, 'player.shuffle', player, detail, () => c.app.controller.setShuffle(value, player), (x) => x.player);
  c.app.view.invalidate();
  return { ok: true, player: r.player, action: 'shuffle', shuffle: r.shuffle };
}

async function repeat(c: Call) {
  const body = await c.body();
  const mode = repeatOf(body);
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
  const uri = checkUri(reqString(body, 'uri', MAX_URI_LENGTH));
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

export const PLAYER_OPTION_ROUTES: ApiRoute[] = [
  { method: 'GET', path: '/api/metadata', scope: 'read', handler: metadata },
  { method: 'GET', path: '/api/queue', scope: 'read', handler: queue },
  { method: 'POST', path: '/api/player/shuffle', scope: 'control', handler: shuffle },
  { method: 'POST', path: '/api/player/repeat', scope: 'control', handler: repeat },
  {
    method: 'POST', path: '/api/player/open', scope: 'control', handler: open,
    scopeCheckedInHandler: "config server.openScope (default admin) is checked before the body is read — the server fetches what the URI names; 'control' is only the minimum",
  },
];
