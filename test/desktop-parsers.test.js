// The macOS and Windows backends' parsers and normalisers, for real, on the
// fixtures (test/fixtures/desktop, each saying where it came from).
import t from 'tap';
import { fixture } from './helpers/fake-desktop.js';
import { applyStreamLine, parseGet, hasItem, nowPlayingState, playerNameForBundle, nowPlayingMetadata } from '../dist/core/players/macos/now-playing.js';
import { parseReadAll, localeNumber, repeatArg, controlScript, readAllScript } from '../dist/core/players/macos/applescript.js';
import { appleScriptError } from '../dist/core/players/macos/osascript.js';
import { parseVolumeSettings } from '../dist/core/volume/macos.js';
import { parseHelperLine, sessionsOf, sessionNames, sessionState, secondsToTicks, sessionMetadata, playerNameForApp, durationOf } from '../dist/core/players/windows/protocol.js';
import { positionAt } from '../dist/core/players/position.js';
import { LineSplitter } from '../dist/core/tools/lines.js';

t.test('media-control stream: full payloads replace, diffs merge, null removes a key, {} is nothing', async (t) => {
  const { lines } = fixture('media-control-stream.json');
  const seen = [];
  let np = null;
  for (const l of lines) { np = applyStreamLine(np, l); seen.push(np); }
  t.same(seen[0], { artist: 'Sara Rikas', timestampEpochMicros: 1747256447190675, title: 'Cigarety', bundleIdentifier: 'com.tidal.desktop', elapsedTimeMicros: 0, playing: false, album: 'Ja, Sára', durationMicros: 281346077 });
  t.equal(seen[1].artworkMimeType, 'image/jpeg', 'a diff adds a key');
  t.equal(seen[1].title, 'Cigarety', 'and keeps the others');
  t.equal(seen[2].elapsedTimeMicros, 75372614);
  t.equal(seen[4].playing, true);
  t.equal(seen[5].elapsedTimeMicros, 12772000);
  t.equal(seen[5].playing, false);
  t.notOk('artworkMimeType' in seen[6], 'null removes artworkMimeType');
  t.notOk('album' in seen[6], 'null removes album');
  t.equal(seen[6].title, 'Cigarety');
  t.equal(seen[7].bundleIdentifier, 'com.spotify.client', 'a full payload replaces everything');
  t.notOk('durationMicros' in seen[7] && seen[7].durationMicros === 281346077);
  t.notOk('album' in seen[7], 'a null in a full payload is a key that is not there');
  t.same(seen[8], {}, '{} means nothing plays');
  t.notOk(hasItem(seen[8]));
  t.ok(hasItem(seen[7]));
  const s = nowPlayingState(seen[7], 1747260400000000 / 1000 + 10_000);
  t.equal(s.player, 'spotify');
  t.equal(s.artist, 'Øneheart', 'UTF-8 text survives');
  t.equal(s.position, 56, '46 s as of the timestamp, +10 s later while playing');
  t.equal(s.album, null);
});

t.test('media-control stream: a diff before any full payload counts as full; other line types are ignored; garbage is an error', async (t) => {
  t.same(applyStreamLine(null, '{"type":"data","diff":true,"payload":{"title":"x","bundleIdentifier":"a.b"}}'), { title: 'x', bundleIdentifier: 'a.b' });
  const cur = { title: 'x' };
  t.equal(applyStreamLine(cur, '{"type":"debug","payload":{"title":"y"}}'), cur);
  t.throws(() => applyStreamLine(cur, 'not json'), { code: 'macos.bad_output' });
  t.throws(() => applyStreamLine(cur, '{"type":"data","diff":true}'), { code: 'macos.bad_output' });
  t.throws(() => applyStreamLine(cur, '[1,2]'), { code: 'macos.bad_output' });
});

t.test('media-control get: null, an object (micros or seconds), or an error', async (t) => {
  t.equal(parseGet('null\n'), null);
  t.throws(() => parseGet('Segmentation fault'), { code: 'macos.bad_output', exitCode: 3 });
  t.throws(() => parseGet('"text"'), { code: 'macos.bad_output' });
  const micros = parseGet(fixture('media-control-get.json').stdout);
  const at = micros.timestampEpochMicros / 1000;
  const s = nowPlayingState(micros, at + 4000);
  t.match(s, { player: 'spotify', status: 'playing', title: 'Happier Than Ever', duration: 298, position: 50, shuffle: false, repeat: 'playlist', volume: null });
  t.match(s.capabilities, { canPlay: true, canPause: true, canSeek: true, canGoNext: true, canGoPrevious: true, canSetVolume: false, canControl: true });
  const md = nowPlayingMetadata(micros);
  t.same(md['xesam:artist'], ['Billie Eilish']);
  t.equal(md['mpris:length'], 298000000);
  t.equal(md['macos:bundleIdentifier'], 'com.spotify.client');
  t.same(md['xesam:genre'], ['Pop']);
  const secs = parseGet(fixture('media-control-get-seconds.json').stdout);
  t.notOk('artist' in secs, 'null keys dropped');
  const p = nowPlayingState(secs, Date.parse('2025-05-14T21:10:00Z'));
  t.match(p, { player: 'safari', status: 'paused', duration: 3600.5, position: 61.25 }, 'the parent app names it; a paused item does not move');
});

t.test('position extrapolation', async (t) => {
  const at = 1_000_000;
  t.equal(positionAt({ position: 10, at, playing: true }, at + 2500), 12.5);
  t.equal(positionAt({ position: 10, at, playing: true, rate: 2 }, at + 1000), 12);
  t.equal(positionAt({ position: 10, at, playing: false }, at + 60_000), 10, 'paused: stays');
  t.equal(positionAt({ position: 10, at, playing: true, duration: 11 }, at + 60_000), 11, 'never past the end');
  t.equal(positionAt({ position: 10, at, playing: true }, at - 5000), 10, 'a timestamp from the future moves nothing');
  t.equal(positionAt({ position: -3, at, playing: false }, at), 0);
  t.equal(nowPlayingState({ bundleIdentifier: 'x.y', title: 'a', playing: true, playbackRate: 0, elapsedTime: 5, timestamp: '2025-01-01T00:00:00Z' }, Date.parse('2025-01-01T00:01:00Z')).status, 'paused', 'rate 0 means paused');
});

t.test('player names from bundle ids and app ids', async (t) => {
  const mac = { 'com.spotify.client': 'spotify', 'com.apple.Music': 'music', 'com.google.Chrome': 'chrome', 'tv.plex.desktop': 'plex', 'org.videolan.vlc': 'vlc', 'com.apple.Safari': 'safari', 'com.tidal.desktop': 'tidal', 'com.apple.WebKit.GPU': 'webkit' };
  for (const [id, name] of Object.entries(mac)) t.equal(playerNameForBundle(id), name, id);
  const win = { 'Spotify.exe': 'spotify', chrome: 'chrome', MSEdge: 'edge', 'Microsoft.ZuneMusic_8wekyb3d8bbwe!Microsoft.ZuneMusic': 'media-player', '308046B0AF4A39CB': 'app-308046b0', 'C:\\Program Files\\VideoLAN\\VLC\\vlc.exe': 'vlc' };
  for (const [id, name] of Object.entries(win)) t.equal(playerNameForApp(id), name, id);
});

t.test('get volume settings, including missing value', async (t) => {
  for (const c of fixture('osascript-volume.json').cases) t.same(parseVolumeSettings(c.stdout), { level: c.level, muted: c.muted }, c.stdout.trim());
  t.throws(() => parseVolumeSettings('garbage'), { code: 'volume.backend_failed' });
});

t.test('AppleScript: Music (seconds) and Spotify (ms), decimal commas, not running, stopped', async (t) => {
  const [a, b, c] = fixture('applescript-read-all.json').cases;
  const now = Date.parse('2025-05-14T21:00:00Z');
  const r1 = parseReadAll(a.stdout, now);
  t.equal(r1.get('Spotify'), null, 'not running');
  t.match(r1.get('Music'), { player: 'music', status: 'playing', title: 'So What', duration: 562.373, position: 12.5, shuffle: false, repeat: 'playlist', volume: 80 });
  const r2 = parseReadAll(b.stdout, now);
  t.match(r2.get('Music'), { status: 'paused', duration: 562.373, position: 12.5, shuffle: true, repeat: 'track' }, 'decimal comma read');
  t.match(r2.get('Spotify'), { player: 'spotify', status: 'playing', duration: 200.04, position: 31.2, repeat: 'playlist', volume: 65, artUrl: 'https://i.scdn.co/image/ab67616d0000b273' }, 'Spotify durations are ms');
  t.match(parseReadAll(c.stdout, now).get('Music'), { status: 'stopped', title: null, position: null });
  t.equal(localeNumber('1.234,5'), null, 'grouping is not guessed');
  t.equal(localeNumber('7,25'), 7.25);
  t.throws(() => repeatArg('Spotify', 'track'), { code: 'player.unsupported' });
  t.equal(repeatArg('Music', 'track'), 'one');
  // Every script is guarded and takes its values as run-handler arguments.
  for (const cmd of ['play', 'pause', 'toggle', 'stop', 'next', 'previous', 'seek', 'volume', 'shuffle', 'repeat', 'open']) {
    for (const app of ['Music', 'Spotify']) {
      const s = controlScript(app, cmd).join('\n');
      t.ok(s.indexOf(`if application "${app}" is running then`) < s.indexOf(`tell application "${app}"`), `${app} ${cmd} is guarded`);
      t.notMatch(s.replace(' / 1000', ''), /\d{2,}/, 'no value pasted into the script');
    }
  }
  const all = readAllScript().join('\n');
  t.ok(all.indexOf('if application "Music" is running') < all.indexOf('tell application "Music"'));
  t.ok(all.indexOf('if application "Spotify" is running') < all.indexOf('tell application "Spotify"'));
});

t.test('AppleScript errors: -1743 is the Automation permission, with the fix', async (t) => {
  const e = appleScriptError('0:50: execution error: Not authorized to send Apple events to Music. (-1743)\n', 'Music');
  t.match(e, { code: 'macos.automation_denied', exitCode: 4 });
  t.match(e.message, /Music/);
  t.match(e.hint, /Privacy & Security → Automation/);
  t.match(appleScriptError('execution error: Spotify got an error: Application isn’t running. (-600)', 'x'), { code: 'player.not_found', exitCode: 3 });
  t.match(appleScriptError('execution error: something else (-2700)', 'x'), { code: 'macos.applescript_failed', exitCode: 3 });
});

t.test("the Windows helper's JSON lines", async (t) => {
  const f = fixture('windows-sessions.json');
  t.same(parseHelperLine(JSON.stringify(f.ready)), f.ready);
  t.same(parseHelperLine(`\uFEFF${JSON.stringify(f.ready)}`), f.ready, 'a BOM is tolerated');
  for (const e of f.events) t.same(parseHelperLine(JSON.stringify(e)), e);
  t.same(parseHelperLine(JSON.stringify(f.volume)), f.volume);
  t.same(parseHelperLine(JSON.stringify(f.error)), f.error);
  t.same(parseHelperLine('{"id":4,"ok":false}'), { id: 4, ok: false, error: { code: 'helper.bad_answer', message: 'the helper gave no reason' } });
  for (const noise of ['WARNING: x', '', '[]', '{"type":"event","event":"nope"}', '{"id":"1","ok":true}']) t.equal(parseHelperLine(noise), null, noise);
  const sessions = sessionsOf(f.answer.result);
  t.equal(sessions.length, 5);
  t.throws(() => sessionsOf({}));
  t.same(sessionNames(sessions), ['spotify', 'media-player', 'chrome', 'chrome.instance2', 'app-308046b0']);
  const at = Date.parse(sessions[0].timeline.lastUpdated);
  const s = sessionState(sessions[0], 'spotify', at + 5000);
  t.match(s, { player: 'spotify', status: 'playing', title: 'Ünïcödé ♫ 日本語', artist: 'Ørjan Nilsen', album: 'Ålbum', duration: 245, position: 35, shuffle: false, repeat: 'off', volume: null });
  t.same(s.capabilities, { canPlay: false, canPause: true, canSeek: true, canGoNext: true, canGoPrevious: true, canSetVolume: false, canControl: true, canShuffle: true, canRepeat: true, canOpenUri: false });
  const paused = sessionState(sessions[1], 'media-player', Date.now());
  t.match(paused, { status: 'paused', duration: null, position: 0, repeat: 'playlist', shuffle: true, artist: null }, 'LastUpdatedTime of year 1 carries nothing forward');
  t.match(sessionState(sessions[4], 'x', Date.now()), { status: 'stopped', repeat: null, shuffle: null });
  t.equal(durationOf(sessions[0]), 245);
  t.equal(secondsToTicks(1.5), 15_000_000, '100 ns ticks');
  t.equal(secondsToTicks(2, { timeline: { startTicks: 10 } }), 20_000_010);
  const md = sessionMetadata(sessions[0]);
  t.same(md['xesam:artist'], ['Ørjan Nilsen']);
  t.equal(md['mpris:length'], 245_000_000);
  t.equal(md['windows:sourceAppUserModelId'], 'Spotify.exe');
});

t.test('LineSplitter: lines and UTF-8 characters split across chunks come out whole', async (t) => {
  const got = [];
  const s = new LineSplitter((l) => got.push(l));
  const bytes = Buffer.from('first ♫ line\r\nsecond 日本\nthird', 'utf8');
  for (let i = 0; i < bytes.length; i++) s.push(bytes.subarray(i, i + 1));
  s.end();
  t.same(got, ['first ♫ line', 'second 日本', 'third']);
  let overflow = 0;
  const small = new LineSplitter(() => {}, 10, () => overflow++);
  small.push('x'.repeat(11));
  t.equal(overflow, 1, 'an endless line is dropped, not kept');
});
