/**
 * The named JSON answers of the HTTP API (OpenAPI components.schemas), one
 * schema per shape the handlers answer (src/server/shapes.ts, core's
 * statusJson, the stores' results). Answers are closed: a field the schema
 * does not list is a test failure (test/helpers/openapi.js checks every real
 * answer), so nothing reaches a client undocumented — a new field is added
 * here first. Every listed field is always present unless marked optional.
 */
import { arr, bool, dict, int, nullable, num, obj, oneOfStrings, ref, str, text, time, type Schema } from './json-schema.js';

const SCOPES = ['read', 'control', 'admin'] as const;
const scope = oneOfStrings(SCOPES, 'read ⊂ control ⊂ admin');

/** A closed object whose every property is present except those in `optional`. */
export function answer(props: Record<string, Schema>, optional: readonly string[] = [], description?: string): Schema {
  return obj(props, Object.keys(props).filter((k) => !optional.includes(k)), { closed: true, ...(description ? { description } : {}) });
}

const capabilities = answer({
  canPlay: bool(), canPause: bool(), canSeek: bool(), canGoNext: bool(), canGoPrevious: bool(),
  canSetVolume: bool('the player\'s own volume can be read and set'), canControl: bool('the player accepts control at all'),
  canShuffle: bool('shuffle can be read and set (MPRIS Shuffle, MPD random)'),
  canRepeat: bool('the repeat mode can be read and set (MPRIS LoopStatus, MPD repeat + single)'),
  canOpenUri: bool('the player opens URIs of at least one scheme'),
});

const REPEAT_MODES = ['off', 'track', 'playlist'] as const;

const volume = answer({
  level: int(0, undefined, '0–100 (more when boosted elsewhere)'),
  muted: bool(),
  target: oneOfStrings(['system', 'player']),
  backend: oneOfStrings(['pulse', 'pipewire', 'alsa', 'macos', 'windows', 'player']),
});

const status = answer({
  player: text('the player\'s name: mpd, or the MPRIS name such as mpv'),
  status: oneOfStrings(['playing', 'paused', 'stopped']),
  title: nullable(text()), artist: nullable(text()), album: nullable(text()),
  duration: nullable(num(0, undefined, 'seconds')),
  position: nullable(num(0, undefined, 'seconds, as of positionUpdatedAt')),
  positionUpdatedAt: nullable(time('when position was read; extrapolate while playing')),
  volume: nullable(num(0, undefined, 'the player\'s own volume')),
  shuffle: nullable(bool()),
  repeat: nullable(oneOfStrings(REPEAT_MODES)),
  artUrl: nullable(text('artwork location as the player reports it')),
  capabilities: ref('Capabilities'),
  artwork: nullable(text('a short-lived signed link to GET /api/artwork, or null')),
}, [], 'One player\'s state, as `play status --json` prints it, plus `artwork`.');

const playerRow = answer({
  name: text(), backend: nullable(oneOfStrings(['mpd', 'mpris', 'macos', 'windows'])),
  status: oneOfStrings(['playing', 'paused', 'stopped', 'unknown']),
  responding: bool('false for a player that did not answer in time'),
  error: text('why it did not answer (only when responding is false)'),
  title: nullable(text()), artist: nullable(text()),
  active: bool('the one used when no player is named'),
  capabilities: ref('Capabilities'),
  aliases: arr(text(), 'other names the same player answers to (VLC: vlc.instance<PID> beside vlc); a request may name it by any of them'),
}, ['error']);

const problem = answer({ code: text(), message: text() });

const actionDone = answer({ ok: { const: true }, player: text(), action: oneOfStrings(['play', 'pause', 'toggle', 'stop', 'next', 'prev']) });
const seekDone = answer({ ok: { const: true }, player: text(), action: { const: 'seek' }, position: nullable(num(0)) });

const shuffled = answer({ ok: { const: true }, player: text(), action: { const: 'shuffle' }, shuffle: bool('what the player reports afterwards') });
const repeated = answer({ ok: { const: true }, player: text(), action: { const: 'repeat' }, repeat: oneOfStrings(REPEAT_MODES, 'what the player reports afterwards') });
const opened = answer({ ok: { const: true }, player: text(), action: { const: 'open' }, uri: text('the URI as the player was given it') });

/** A raw metadata value, made JSON-safe (64-bit integers as numbers): any JSON value. */
const metadataValue: Schema = { description: 'a metadata value as the player gives it: text, number, boolean, null, a list or an object of them' };
const metadata = answer({
  player: text(),
  metadata: dict(metadataValue, 'every raw key of the current track: xesam:*, mpris:*, the player\'s own'),
}, [], 'As `play metadata --json`.');
const queueEntry = answer({
  position: int(0, undefined, 'in the queue, 0-based, as the player counts it'),
  id: nullable(text('the player\'s own id for it (MPD song id, MPRIS track id)')),
  title: nullable(text()), artist: nullable(text()), album: nullable(text()),
  duration: nullable(num(0, undefined, 'seconds')),
  uri: nullable(text()),
  current: bool('this is the current track'),
});
const queue = answer({ player: text(), queue: arr(ref('QueueEntry')) }, [], 'As `play queue --json`.');

const tokenStatus = oneOfStrings(['active', 'expired', 'revoked']);
const createdToken = answer({ id: text(), token: text('the secret, shown this once'), label: text(), scope, createdAt: time(), expiresAt: nullable(time()) });
const tokenInfo = answer({ id: text(), label: text(), scope, createdAt: time(), expiresAt: nullable(time()), lastSeenAt: nullable(time()), status: tokenStatus, revokedAt: nullable(time()) });
const revokedToken = answer({ id: text(), label: text(), scope, status: tokenStatus, revokedAt: nullable(time()), alreadyRevoked: bool() });

const inviteStatus = oneOfStrings(['active', 'expired', 'used_up', 'revoked', 'superseded']);
const createdInvite = answer({
  id: text(), code: text('XXXX-XXXX-XXXX-XXXX, shown this once'), link: text('server.publicUrl (or the served address) + /connect#code=…'),
  label: text(), scope, maxUses: int(1), expiresAt: time(), superseded: arr(text(), 'ids of the invites this one replaced'),
});
const inviteInfo = answer({ id: text(), label: text(), scope, maxUses: int(1), uses: int(0), createdAt: time(), expiresAt: time(), status: inviteStatus, lastRedeemedAt: nullable(time()) });
const revokedInvite = answer({ id: text(), label: text(), scope, maxUses: int(1), uses: int(0), expiresAt: time(), status: inviteStatus, alreadyRevoked: bool() });

const auditEvent = answer({
  time: time(), seq: int(1), prev: text(), hash: text(),
  actor: answer({ id: text('local:<user>, token:<id>, anonymous, system:…'), label: text() }, ['label']),
  ip: text(), requestId: text(), action: text('dotted verb: token.create, player.pause, auth.failure …'), target: text(),
  outcome: oneOfStrings(['ok', 'denied', 'error']), detail: text(),
}, ['ip', 'requestId', 'target', 'detail']);

const badLine = answer({ file: text('file name inside the state dir'), line: int(1), seq: int(1) }, ['seq']);
const auditVerify = {
  oneOf: [
    answer({ ok: { const: true }, count: int(0), files: arr(text()), lastSeq: int(0), lastHash: text(), notes: int(0) }),
    answer({
      ok: { const: false }, count: int(0), files: arr(text()), firstBadLine: badLine,
      kind: oneOfStrings(['edited', 'deleted', 'reordered', 'inserted', 'truncated', 'malformed', 'head_rebuilt']), reason: text(),
    }),
  ],
  description: 'As `audit verify --json`: 200 either way, `ok` says.',
};

const mqttStatus = {
  oneOf: [
    answer({ enabled: { const: false } }, [], 'mqtt.url is not set: no bridge.'),
    answer({
      enabled: { const: true },
      url: text('the broker (never with credentials)'), node: text('this machine\'s node name on the broker'),
      commands: oneOfStrings(['off', 'control']), discovery: bool('Home Assistant discovery published'),
      connected: bool(), since: nullable(time('when the current connection came up, or the last one went down')),
      lastError: nullable(answer({ code: text(), message: text() })),
      connections: int(0, undefined, 'connections made since start (more than 1: reconnects)'),
      failedAttempts: int(0, undefined, 'failed attempts since the last connection'),
      published: int(0, undefined, 'messages published since start'),
      commandCounts: answer({ received: int(0), refused: int(0), ran: int(0), failed: int(0) }),
    }),
  ],
  description: 'The MQTT bridge: off, or where it connects and how it is doing.',
};

const mediaEntry = answer({
  name: text(), path: text('relative to the folder root, as browse and play take it back'),
  type: oneOfStrings(['dir', 'file']), size: nullable(int(0, undefined, 'bytes; null for directories')), playable: bool(),
});
const browse = {
  oneOf: [
    answer({ folders: arr(answer({ name: text(), available: bool('its root exists and is a directory now') })) }, [], 'Without `folder`: the media folders.'),
    answer({
      folder: text(), path: text(), entries: arr(mediaEntry), total: int(0), offset: int(0), limit: int(1),
      nextOffset: nullable(int(0, undefined, 'offset of the next page; null on the last')),
    }, [], 'With `folder`: one page of a directory.'),
  ],
};

const scriptInfo = answer({
  name: text(), description: nullable(text()), scope, timeout: num(0, undefined, 'seconds'),
  params: arr(answer({ name: text(), pattern: text('anchored regular expression'), required: bool() })),
});
const scriptResult = answer({
  script: text(), exitCode: nullable(int()), signal: nullable(text()), timedOut: bool(), truncated: bool('stdout or stderr was cut at the script\'s cap'),
  stdout: text(), stderr: text(), durationMs: num(0),
});

/** `{"error":{code, message, requestId, hint?}}`: every error answer. */
const error = answer({
  error: answer({
    code: str(100, 'dotted, stable: auth.invalid_token, usage.invalid_field, player.not_found …'),
    message: text('one line for people; never a secret, a stack or a server path'),
    requestId: text('as in X-Request-ID'),
    hint: text('what to do about it, when there is something to do'),
  }, ['hint']),
}, [], 'Every error answer.');

export const ANSWER_SCHEMAS: Readonly<Record<string, Schema>> = Object.freeze({
  Error: error,
  Health: answer({ ok: { const: true } }),
  Capabilities: capabilities,
  Status: status,
  Volume: volume,
  Players: answer({ players: arr(ref('PlayerRow')), problems: arr(problem, 'backends that could not be asked, and why') }),
  PlayerRow: playerRow,
  ActionDone: actionDone,
  SeekDone: seekDone,
  Shuffled: shuffled,
  Repeated: repeated,
  Opened: opened,
  Metadata: metadata,
  QueueEntry: queueEntry,
  Queue: queue,
  FilePlayed: answer({ ok: { const: true }, action: { const: 'file' }, player: text(), folder: text(), path: text(), name: text() }),
  Browse: browse,
  ScriptInfo: scriptInfo,
  ScriptResult: scriptResult,
  WhoAmI: answer({ id: text(), label: text(), scope, expiresAt: nullable(time()) }),
  Redeemed: answer({ pairingToken: text('single use, valid 10 minutes; never a bearer token'), expiresAt: time() }),
  Exchanged: {
    oneOf: [
      answer({ id: text(), token: text('the device token, shown this once'), scope, label: text() }),
      answer({ id: text(), scope, label: text(), cookie: { const: true } }, [], 'With `cookie: true`: the token is in an HttpOnly cookie instead.'),
    ],
  },
  CreatedToken: createdToken,
  TokenInfo: tokenInfo,
  RevokedToken: revokedToken,
  CreatedInvite: createdInvite,
  InviteInfo: inviteInfo,
  RevokedInvite: revokedInvite,
  AuditEvent: auditEvent,
  AuditVerify: auditVerify,
  MqttStatus: mqttStatus,
  /** Free-form maps (script params). */
  StringMap: dict(text()),
});
