// Headless Chromium (Media Session → MPRIS) and mpv on one private bus,
// through the real CLI — one-shot commands, so over the small wire client:
// status, players, --all-players, --player by its base name, the last-active
// choice between two players, --ignore-player, and a pause/play round trip,
// each checked against what playerctl reads from the same players.
import t from 'tap';
import { startSessionBus, startMpv } from './helpers/dbus.js';
import { startChromiumPlayer } from './helpers/chromium-player.js';
import { makeMusic, tempDir, waitFor } from './helpers/proc.js';
import { cliEnv, runCli } from './helpers/cli.js';
import { join } from 'node:path';

t.test('Chromium and mpv over the wire client', async (t) => {
  const bus = await startSessionBus(t);
  const chromium = await startChromiumPlayer(t, bus, { title: 'WireTitle', artist: 'WireArtist', album: 'WireAlbum' });
  const music = makeMusic(tempDir(t, 'mg-music-'));
  const mpv = await startMpv(t, bus, [join(music, 'a.ogg'), '--loop-file=inf', '--pause']);
  const { env } = cliEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address, MPD_PORT: '1' });
  await runCli(['config', 'set', 'mpd.enabled', 'false'], { env });
  const json = async (...args) => {
    const r = await runCli([...args, '--json'], { env });
    if (r.code !== 0) throw new Error(`${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };

  const s = await json('status', '--player', chromium.name);
  t.equal(s.player, chromium.name);
  t.equal(s.status, 'playing');
  t.equal(s.title, chromium.playerctl('metadata', 'xesam:title'), 'title as playerctl reads it');
  t.equal(s.artist, 'WireArtist');
  t.equal(s.album, 'WireAlbum');
  t.equal(s.capabilities.canShuffle, false, 'Chromium has no Shuffle property');
  t.equal(s.capabilities.canOpenUri, false, 'Chromium lists no URI schemes');

  const byBase = await json('status', '--player', 'chromium');
  t.equal(byBase.player, chromium.name, '--player chromium finds its instance name');

  const bare = await json('status');
  t.equal(bare.player, chromium.name, 'bare status: the playing one (mpv is paused)');

  const rows = await json('play', 'players');
  t.same(rows.map((r) => r.name).sort(), [chromium.name, mpv.name].sort(), 'one row per player');
  t.equal(rows.find((r) => r.active)?.name, chromium.name);

  const all = await json('status', '--all-players');
  t.same(all.map((x) => x.player).sort(), [chromium.name, mpv.name].sort());
  t.equal(all.find((x) => x.player === mpv.name).status, 'paused');

  const ignored = await json('status', '--ignore-player', 'chromium');
  t.equal(ignored.player, mpv.name, '--ignore-player chromium leaves mpv');

  // pause Chromium through mediagate: both players paused, the one controlled last is the bare choice
  const paused = await runCli(['pause', '--player', chromium.name], { env });
  t.equal(paused.code, 0, paused.stderr);
  await waitFor(() => chromium.playerctl('status') === 'Paused', { timeoutMs: 5000, what: 'Chromium paused' });
  const after = await json('status');
  t.equal(after.status, 'paused');
  t.equal(after.player, chromium.name, 'last active among equals: the one just paused');
  const played = await runCli(['play', '--player', chromium.name], { env });
  t.equal(played.code, 0, played.stderr);
  await waitFor(() => chromium.playerctl('status') === 'Playing', { timeoutMs: 5000, what: 'Chromium playing again' });
});
