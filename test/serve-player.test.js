// Control and status through a real `mediagate serve` against real daemons:
// MPD (checked with mpc), PulseAudio (checked with pactl), and an MPRIS
// player on a private bus for artwork. Answers have the CLI's JSON shapes.
import t from 'tap';
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileSync } from 'node:fs';
import { startMpd } from './helpers/mpd.js';
import { startPulse, pulseVolume } from './helpers/pulse.js';
import { startSessionBus } from './helpers/dbus.js';
import { makeMusic, tempDir } from './helpers/proc.js';
import { runCli } from './helpers/cli.js';
import { api, auditEvents, cliToken, serveEnv, startArtPlayer, startServe, writePng } from './helpers/serve.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mpcState = (mpd) => {
  const m = /^\[(playing|paused)\]/m.exec(mpd.mpc('status'));
  return m ? m[1] : 'stopped';
};

/** Poll GET /api/status until `pred` holds; resolves the ms it took from `since`. */
async function until(srv, token, pred, since, limitMs = 3000) {
  for (;;) {
    const r = await api(srv, 'GET', '/api/status', { token });
    if (r.status === 200 && pred(r.json)) return Date.now() - since;
    if (Date.now() - since > limitMs) return Infinity;
    await sleep(2);
  }
}

t.test('control through the API drives a real MPD; status follows mpc by events', async (t) => {
  const music = makeMusic(join(tempDir(t), 'music'));
  const mpd = await startMpd(t, { musicDir: music });
  const { env } = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) }, {
    'server.rateLimit.rps': 0, 'media.folders.music': music, 'mpd.musicDirectory': music,
    // A media root below MPD's music directory (created later, so the listings below stay the three tracks).
    'media.folders.sub': join(music, 'sub'),
  });
  const control = await cliToken(env, 'ctl', 'control');
  const srv = await startServe(t, env);
  const tok = control.token;

  // Same JSON as the CLI, plus `artwork`.
  let r = await api(srv, 'GET', '/api/status', { token: tok });
  t.equal(r.status, 200, r.text);
  const cli = await runCli(['play', 'status', '--json'], { env });
  t.equal(cli.code, 0, cli.stderr);
  t.same(Object.keys(r.json).sort(), [...Object.keys(JSON.parse(cli.stdout)), 'artwork'].sort(), 'status: the CLI fields + artwork');
  t.same({ ...r.json, artwork: undefined }, { ...JSON.parse(cli.stdout), artwork: undefined }, 'status: the same values as the CLI');
  t.equal(r.json.artwork, null, 'MPD stopped: no artwork link (a playing song\'s cover: serve-artwork-mpd.test.js)');
  r = await api(srv, 'GET', '/api/status?player=nope', { token: tok });
  t.equal(r.status, 404);
  t.equal(r.json.error.code, 'player.not_found');

  r = await api(srv, 'GET', '/api/players', { token: tok });
  const cliPlayers = JSON.parse((await runCli(['play', 'players', '--json'], { env })).stdout);
  t.same(r.json.players, cliPlayers, 'players: the same rows as the CLI');
  t.ok(r.json.problems.every((p) => typeof p.code === 'string' && typeof p.message === 'string' && !p.message.includes('/no-runtime')), 'problems: code and message, no absolute path');

  for (const [action, want] of [['play', 'playing'], ['pause', 'paused'], ['toggle', 'playing'], ['stop', 'stopped'], ['play', 'playing']]) {
    r = await api(srv, 'POST', `/api/player/${action}`, { token: tok, json: { player: 'mpd' } });
    t.same(r.json, { ok: true, player: 'mpd', action }, `${action} answer`);
    t.equal(mpcState(mpd), want, `${action} → mpc ${want}`);
  }
  r = await api(srv, 'POST', '/api/player/next', { token: tok });
  t.same(r.json, { ok: true, player: 'mpd', action: 'next' });
  t.equal(mpd.mpc('current', '-f', '%title%'), 'SineB', 'next → second track');
  r = await api(srv, 'POST', '/api/player/previous', { token: tok });
  t.same(r.json, { ok: true, player: 'mpd', action: 'prev' }, 'previous prints as prev, like the CLI');
  t.equal(mpd.mpc('current', '-f', '%title%'), 'SineA');

  mpd.mpc('pause');
  r = await api(srv, 'POST', '/api/player/seek', { token: tok, json: { position: 20 } });
  t.equal(r.status, 200, r.text);
  t.same({ ...r.json, position: Math.round(r.json.position) }, { ok: true, player: 'mpd', action: 'seek', position: 20 });
  t.match(mpd.mpc('status').split('\n')[1], /0:20\//, 'seek 20 → 0:20');
  r = await api(srv, 'POST', '/api/player/seek', { token: tok, json: { offset: -10 } });
  t.match(mpd.mpc('status').split('\n')[1], /0:10\//, 'offset -10 → 0:10');
  r = await api(srv, 'POST', '/api/player/seek', { token: tok, json: { percent: 50 } });
  t.match(mpd.mpc('status').split('\n')[1], /0:15\//, '50% → 0:15');
  r = await api(srv, 'POST', '/api/player/seek', { token: tok, json: { position: 90 } });
  t.equal(r.status, 422, 'past the end');
  t.match(r.json.error.message, /past the end/);

  // The player's own volume (no system mixer here).
  r = await api(srv, 'PUT', '/api/volume', { token: tok, json: { level: 30 } });
  t.same(r.json, { level: 30, muted: false, target: 'player', backend: 'player' });
  t.match(mpd.mpc('volume'), /30%/, 'PUT level 30 → MPD volume 30');
  r = await api(srv, 'PUT', '/api/volume', { token: tok, json: { change: -5 } });
  t.equal(r.json.level, 25, 'change −5');
  t.match(mpd.mpc('volume'), /25%/);

  // Status reflects changes made with mpc, pushed by MPD idle (measured).
  const times = [];
  for (const [cmd, want] of [['play', 'playing'], ['pause', 'paused'], ['play', 'playing'], ['pause', 'paused'], ['next', null]]) {
    const before = (await api(srv, 'GET', '/api/status', { token: tok })).json;
    const t0 = Date.now();
    mpd.mpc(cmd);
    const ms = await until(srv, tok, (s) => (want ? s.status === want : s.title !== before.title), t0);
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  t.comment(`GET /api/status saw mpc changes after ${times.join(', ')} ms (median ${times[2]} ms)`);
  t.ok(times[2] <= 200, `median ${times[2]} ms ≤ 200 ms`);
  t.ok(times[4] <= 1000, 'every change seen within 1 s');

  // Media folders: browse and play through the API (SafeJoin inside).
  r = await api(srv, 'GET', '/api/media/browse', { token: tok });
  t.same(r.json, { folders: [{ name: 'music', available: true }, { name: 'sub', available: false }] });
  r = await api(srv, 'GET', '/api/media/browse?folder=music', { token: tok });
  t.same(r.json.entries.map((e) => e.name), ['a.ogg', 'b.flac', 'c.mp3']);
  const cliBrowse = JSON.parse((await runCli(['play', 'browse', 'music', '--json'], { env })).stdout);
  t.same(r.json, cliBrowse, 'browse: the same JSON as the CLI');
  r = await api(srv, 'GET', `/api/media/browse?folder=music&path=${encodeURIComponent('../..')}`, { token: tok });
  t.equal(r.status, 422, '`..` is refused');
  t.notMatch(r.text, new RegExp(music.replace(/[/.]/g, '\\$&')), 'no absolute path in the error');
  r = await api(srv, 'POST', '/api/media/play', { token: tok, json: { folder: 'music', path: 'c.mp3', player: 'mpd' } });
  t.equal(r.status, 200, r.text);
  t.same(r.json, { ok: true, action: 'file', player: 'mpd', folder: 'music', path: 'c.mp3', name: 'c.mp3' });
  t.equal(mpd.mpc('current', '-f', '%file%'), 'c.mp3', 'media play → MPD plays c.mp3');
  r = await api(srv, 'POST', '/api/media/play', { token: tok, json: { folder: 'music', path: '/etc/passwd' } });
  t.equal(r.status, 422, 'absolute path refused');
  // Symlinks inside the root that point outside it are refused over the API too.
  symlinkSync('/etc', join(music, 'escape'));
  symlinkSync('/etc/hostname', join(music, 'evil.mp3'));
  r = await api(srv, 'GET', '/api/media/browse?folder=music&path=escape', { token: tok });
  t.equal(r.status, 422, 'browsing through a directory link that leaves the root is refused');
  t.notMatch(r.text, /\/etc|\/tmp/, 'the refusal names no absolute path');
  r = await api(srv, 'POST', '/api/media/play', { token: tok, json: { folder: 'music', path: 'evil.mp3', player: 'mpd' } });
  t.equal(r.status, 422, 'playing a file link that leaves the root is refused');
  r = await api(srv, 'POST', '/api/media/play', { token: tok, json: { folder: 'music', path: 'escape/hostname.mp3', player: 'mpd' } });
  t.equal(r.status, 422, 'a not-yet-existing path under an escaping link is refused');
  r = await api(srv, 'GET', '/api/media/browse?folder=music', { token: tok });
  t.same(r.json.entries.map((e) => e.name), ['a.ogg', 'b.flac', 'c.mp3'], 'links leading outside are not listed');
  t.equal(mpd.mpc('current', '-f', '%file%'), 'c.mp3', 'nothing else was played');

  // A root below music_directory (over TCP, mpd.musicDirectory from config): MPD gets `sub/x.ogg`.
  mkdirSync(join(music, 'sub'));
  copyFileSync(join(music, 'a.ogg'), join(music, 'sub', 'x.ogg'));
  r = await api(srv, 'POST', '/api/media/play', { token: tok, json: { folder: 'sub', path: 'x.ogg', player: 'mpd' } });
  t.equal(r.status, 200, r.text);
  t.same(r.json, { ok: true, action: 'file', player: 'mpd', folder: 'sub', path: 'x.ogg', name: 'x.ogg' });
  t.equal(mpd.mpc('current', '-f', '%file%'), 'sub/x.ogg', 'queued by its path relative to the music directory');
  t.match(mpd.mpc('playlist', '-f', '%file%'), /^sub\/x\.ogg$/m);
  // An allowed name MPD cannot decode: 422 media.not_playable (not a 500), no path.
  writeFileSync(join(music, 'sub', 'broken.mp3'), Buffer.alloc(20000, 0x5a));
  r = await api(srv, 'POST', '/api/media/play', { token: tok, json: { folder: 'sub', path: 'broken.mp3', player: 'mpd' } });
  t.equal(r.status, 422, r.text);
  t.equal(r.json.error.code, 'media.not_playable');
  t.notMatch(r.text, /\/tmp|\/etc/, 'no absolute path');
  t.equal(mpd.mpc('current', '-f', '%file%'), 'sub/x.ogg', 'still playing the last good file');

  // Every control request is audited as the caller, with address and request id; reads are not.
  const events = (await auditEvents(env)).filter((e) => e.actor.id === `token:${control.id}`);
  const actions = events.map((e) => e.action);
  for (const a of ['player.play', 'player.pause', 'player.toggle', 'player.stop', 'player.next', 'player.previous', 'player.seek', 'volume.set', 'player.play_file']) {
    t.ok(actions.includes(a), `${a} audited`);
  }
  t.ok(events.every((e) => e.ip === '127.0.0.1' && /^[A-Za-z0-9.-]{12}$/.test(e.requestId) && e.actor.label === 'ctl'), 'with actor label, address and request id');
  t.ok(events.some((e) => e.action === 'player.seek' && e.outcome === 'error'), 'a failed seek is audited as an error');
  t.notOk(actions.some((a) => /status|players|browse/.test(a)), 'reads are not audited');
  t.equal((await srv.stop()).code, 0);
  const v = await runCli(['audit', 'verify'], { env });
  t.equal(v.code, 0, v.stderr);
});

t.test('volume through the API changes PulseAudio', async (t) => {
  const pa = await startPulse(t);
  const { env } = await serveEnv(t, { XDG_RUNTIME_DIR: pa.runtime });
  const tok = (await cliToken(env, 'ctl', 'control')).token;
  pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '40%');
  const srv = await startServe(t, env);
  let r = await api(srv, 'GET', '/api/volume', { token: tok });
  t.same(r.json, { level: 40, muted: false, target: 'system', backend: 'pulse' });
  r = await api(srv, 'PUT', '/api/volume', { token: tok, json: { level: 55 } });
  t.same(r.json, { level: 55, muted: false, target: 'system', backend: 'pulse' });
  t.equal(pulseVolume(pa).level, 55, 'PUT 55 → pactl 55%');
  r = await api(srv, 'PUT', '/api/volume', { token: tok, json: { change: 10, muted: true } });
  t.same(r.json, { level: 65, muted: true, target: 'system', backend: 'pulse' });
  t.same(pulseVolume(pa), { level: 65, muted: true });
  r = await api(srv, 'PUT', '/api/volume', { token: tok, json: { level: 101 } });
  t.equal(r.status, 422);
  t.equal(pulseVolume(pa).level, 65, 'nothing changed');
  // A change made with pactl reaches GET /api/volume through `pactl subscribe`.
  pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '20%');
  const t0 = Date.now();
  let seen;
  while (Date.now() - t0 < 3000) {
    r = await api(srv, 'GET', '/api/volume', { token: tok });
    if (r.json.level === 20) { seen = Date.now() - t0; break; }
    await sleep(5);
  }
  t.ok(seen !== undefined, `pactl change seen after ${seen} ms`);
});

t.test('artwork: a short-lived signed URL, ETag and 304, local files only', async (t) => {
  const bus = await startSessionBus(t);
  const dir = tempDir(t, 'mg-art-');
  const png = writePng(join(dir, 'cover.png'));
  const notImage = join(dir, 'secret.txt');
  writeFileSync(notImage, 'not an image');
  const player = await startArtPlayer(t, bus, { artUrl: pathToFileURL(png).href });
  const { env } = await serveEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address });
  const tok = (await cliToken(env, 'r', 'read')).token;
  const srv = await startServe(t, env);

  let r = await api(srv, 'GET', '/api/status', { token: tok });
  t.equal(r.json.player, 'artplayer');
  t.equal(r.json.artUrl, pathToFileURL(png).href);
  const link = r.json.artwork;
  t.match(link, /^\/api\/artwork\?player=artplayer&a=[0-9a-f]{24}&exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
  t.notMatch(link, /mg_/, 'no token in the URL');
  const exp = Number(new URL(link, 'http://x').searchParams.get('exp'));
  t.ok(exp * 1000 - Date.now() <= 6 * 60_000 && exp * 1000 > Date.now() + 4 * 60_000, 'valid about 5 minutes');

  r = await api(srv, 'GET', link);
  t.equal(r.status, 200, 'served without a bearer token');
  t.equal(r.headers['content-type'], 'image/png');
  const etag = r.headers.etag;
  t.match(etag, /^"[A-Za-z0-9_-]{32}"$/);
  r = await api(srv, 'GET', link, { headers: { 'if-none-match': etag } });
  t.equal(r.status, 304, 'If-None-Match → 304');

  const tampered = link.replace(/sig=(.)/, (m, c) => `sig=${c === 'A' ? 'B' : 'A'}`);
  r = await api(srv, 'GET', tampered);
  t.equal(r.status, 403, 'a tampered signature is refused');
  t.equal(r.json.error.code, 'artwork.bad_signature');
  r = await api(srv, 'GET', link.replace(/player=artplayer/, 'player=other'));
  t.equal(r.status, 403, 'the signature binds the player');

  // A new artwork: the old link stops working; a non-image file is never served.
  player.setArt(pathToFileURL(notImage).href);
  await sleep(300);
  r = await api(srv, 'GET', link);
  t.equal(r.status, 404, 'the old link no longer serves');
  r = await api(srv, 'GET', '/api/status', { token: tok });
  r = await api(srv, 'GET', r.json.artwork);
  t.equal(r.status, 415, 'not an image → 415');
  t.notMatch(r.text, /not an image|secret/, 'the file content is not echoed');

  // http(s) artwork is never fetched by the server.
  player.setArt('http://127.0.0.1:9/cover.png');
  await sleep(300);
  r = await api(srv, 'GET', '/api/status', { token: tok });
  t.equal(r.json.artUrl, 'http://127.0.0.1:9/cover.png');
  t.equal(r.json.artwork, null, 'remote artwork: no server-side link');

  const events = await auditEvents(env, ['--action', 'artwork']);
  t.ok(events.some((e) => e.outcome === 'denied' && e.ip === '127.0.0.1'), 'bad signatures are audited');
});
