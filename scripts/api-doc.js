// What scripts/docs.js needs to document the HTTP API and the WebSocket
// protocol of `mediagate serve` beyond what the code can say for itself.
// The route list (method, path, scope) comes from routeTable() in the build;
// here is only each route's request and answer in one line, keyed by
// "METHOD path". A route with no line here is still listed (with "see the
// source") and docs.js warns; a line for a route that no longer exists is
// reported too. Limits are read from the build's constants, not from here.

/** "METHOD path" → [request (query or JSON body), answer]. */
export const ROUTE_SHAPES = {
  'GET /api/health': ['—', '`{ok: true}`'],
  'GET /api/artwork': ['signed query from `artwork` in a status answer (expires)', 'the image, ETag; 304 on If-None-Match'],
  'POST /api/auth/redeem': ['`{code}`', '`{pairingToken, expiresAt}`'],
  'POST /api/auth/exchange': ['`{pairingToken, device, cookie?}`', '`{id, token, scope, label}` (with `cookie: true`: the token as an HttpOnly cookie instead)'],
  'GET /api/auth/whoami': ['—', '`{id, label, scope, expiresAt}`'],
  'POST /api/auth/logout': ['—', 'revokes the calling token: `{id, label, scope, status, revokedAt, alreadyRevoked}`'],
  'GET /api/status': ['`?player=`', 'as `play status --json`, plus `artwork` (a signed URL or null)'],
  'GET /api/players': ['—', '`{players: [...], problems: [{code, message}]}`'],
  'GET /api/volume': ['`?target=system|player&player=`', '`{level, muted, target, backend}`'],
  'PUT /api/volume': ['`{level 0–100 | change ±100, muted?, target?, player?}`', '`{level, muted, target, backend}`'],
  'POST /api/player/play': ['`{player?}` (optional body)', '`{ok: true, player, action}`'],
  'POST /api/player/pause': ['`{player?}` (optional body)', '`{ok: true, player, action}`'],
  'POST /api/player/toggle': ['`{player?}` (optional body)', '`{ok: true, player, action}`'],
  'POST /api/player/stop': ['`{player?}` (optional body)', '`{ok: true, player, action}`'],
  'POST /api/player/next': ['`{player?}` (optional body)', '`{ok: true, player, action}`'],
  'POST /api/player/previous': ['`{player?}` (optional body)', '`{ok: true, player, action}`'],
  'POST /api/player/seek': ['exactly one of `{position | offset | percent}`, `player?`', '`{ok: true, player, action: "seek", position}` (the position the player reports after it)'],
  'POST /api/player/shuffle': ['`{shuffle: true | false | "toggle", player?}`', '`{ok: true, player, action: "shuffle", shuffle}`: what the player reports after it (409 `player.not_applied` when it kept its old value)'],
  'POST /api/player/repeat': ['`{repeat: "off" | "track" | "playlist" | "toggle", player?}`', '`{ok: true, player, action: "repeat", repeat}`: what the player reports after it'],
  'POST /api/player/open': ['`{uri, player?}`: a scheme of config `server.openSchemes` (default http, https; never a plain path); the scope of config `server.openScope` (default admin)', '`{ok: true, player, action: "open", uri}`; 409 `player.unsupported_scheme` naming the schemes taken'],
  'GET /api/metadata': ['`?player=`', '`{player, metadata: {KEY: value}}`: every raw key (xesam:*, mpris:*, the player\'s own), as `play metadata --json`'],
  'GET /api/queue': ['`?player=`', '`{player, queue: [{position, id, title, artist, album, duration, uri, current}]}`; 409 for a player without a queue'],
  'GET /api/media/browse': ['`?folder=&path=&offset=&limit=&all=`', 'no folder: `{folders: [{name, available}]}`; else `{folder, path, entries: [{name, path, type, size, playable}], total, offset, limit, nextOffset}`'],
  'POST /api/media/play': ['`{folder, path, player?}`', '`{ok: true, action: "file", player, folder, path, name}`'],
  'GET /api/scripts': ['—', 'the scripts the caller\'s scope may run: `[{name, description, scope, timeout, params: [{name, pattern, required}]}]`'],
  'POST /api/scripts/{name}/run': ['`{params?: {NAME: "value"}}`', '`{script, exitCode, signal, timedOut, truncated, stdout, stderr, durationMs}`; 10 runs a minute per token'],
  'GET /api/tokens': ['`?all=1` (revoked and expired too)', '`[{id, label, scope, createdAt, expiresAt, lastSeenAt, status, revokedAt}]`'],
  'POST /api/tokens': ['`{label, scope, expiresIn?}`', '`{id, token, label, scope, createdAt, expiresAt}` (the secret, once)'],
  'DELETE /api/tokens/{idOrLabel}': ['—', '`{id, label, scope, status, revokedAt, alreadyRevoked}`'],
  'POST /api/tokens/{id}/rotate': ['—', 'a new secret for the token, as POST /api/tokens'],
  'GET /api/invites': ['`?all=1`', '`[{id, label, scope, maxUses, uses, createdAt, expiresAt, status, lastRedeemedAt}]`'],
  'POST /api/invites': ['`{label, scope, uses? 1–100, expiresIn?}`', '`{id, code, link, label, scope, maxUses, expiresAt, superseded}` (the code, once)'],
  'DELETE /api/invites/{id}': ['—', '`{id, label, scope, maxUses, uses, expiresAt, status, alreadyRevoked}`'],
  'POST /api/invites/{id}/rotate': ['—', 'a new code for the invite, as POST /api/invites'],
  'GET /api/audit': ['`?since=&actor=&action=&outcome=ok|denied|error&limit=` (default 1000, at most 10000)', 'audit events, as `audit --json`'],
  'GET /api/audit/verify': ['—', 'as `audit verify --json` (200 either way; `ok` says)'],
  'GET /api/mqtt': ['—', 'the MQTT bridge: `{enabled: false}`, or `{enabled: true, url, node, commands, discovery, connected, since, lastError: {code, message} | null, connections, failedAttempts, published, commandCounts: {received, refused, ran, failed}}`'],
  'GET /': ['—', 'the web remote (HTML)'],
  'GET /connect': ['—', 'the web remote\'s pairing page (invite links lead here)'],
  'GET /manifest.webmanifest': ['—', 'the web app manifest'],
  'GET /assets/{file}': ['—', 'a hashed web remote asset'],
};

/** The WebSocket protocol, as [term, text] pairs (no Markdown inside). */
export const WS_PROTOCOL = [
  ['Connect', 'GET /api/ws with a token, as Authorization: Bearer TOKEN, or (browsers) the subprotocol mediagate.token.TOKEN offered next to mediagate.v1; the server answers the subprotocol mediagate.v1, never the token one. Origin, when sent, must be in server.corsOrigins (or this server\'s own); no token, a bad token or a foreign Origin is refused before the upgrade (401/403). A token in the URL is refused.'],
  ['Client messages', '{"type":"subscribe","player"?} (the current status and volume now, then every change; with player, that player\'s status, else null), {"type":"subscribe","topic":"audit","filter"?,"backlog"?} (admin scope: the last backlog matching audit events, 0–10000, default 10, then each new one; filter {since?, actor?, action?, outcome?} as GET /api/audit), {"type":"unsubscribe","topic"?}, {"type":"command","action":A,"args":{...}} with A one of play, pause, toggle, stop, next, previous, seek (args: exactly one of position, offset, percent), volume (args: exactly one of level, change, muted, toggleMute; target?, player?), shuffle (args: shuffle true, false or "toggle"), repeat (args: repeat off, track, playlist or toggle), open (args: uri; the scope and schemes of POST /api/player/open) — every args may hold player; commands need the control scope. Any message may carry an "id", echoed in the answer.'],
  ['Server messages', '{"type":"status","data": the GET /api/status answer, or null}, {"type":"volume","data":{level, muted, target, backend} or null}, {"type":"audit","data": one event as GET /api/audit lists it}, {"type":"result","id","ok":true,"data"}, {"type":"error","id"?,"code","message"}. A malformed or unauthorised message gets an error and the socket stays open.'],
  ['Closing', 'revoking or expiring the token closes its sockets with 4401 ("token revoked" / "token expired").'],
];
