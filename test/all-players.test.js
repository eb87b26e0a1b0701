// mpv + mpv-mpris, VLC and headless Chromium on one private bus (VLC's, as
// it must run as mgvlc): --all-players acts on each of them, --ignore-player
// leaves one out, and a player without a control says so. Checked with playerctl.
import t from 'tap';
import { join } from 'node:path';
import { startMpv } from './helpers/dbus.js';
import { startVlcBus, startVlc } from './helpers/vlc.js';
import { startChromiumPlayer } from './helpers/chromium-player.js';
import { makeMusic, sh, tempDir, waitFor } from './helpers/proc.js';
import { cliEnv, runCli } from './helpers/cli.js';

t.test('three real players: --all-players, --ignore-player, and what Chromium cannot do', async (t) => {
  const bus = await startVlcBus(t);
  const vlc = await startVlc(t, bus);
  const music = makeMusic(join(tempDir(t), 'music'));
  const mpv = await startMpv(t, bus, [join(music, 'a.ogg'), join(music, 'b.flac')]);
  const web = await startChromiumPlayer(t, bus, { title: 'WebTitle', artist: 'WebArtist' });
  const { env } = cliEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address, MPD_PORT: '1' });
  const mg = (...args) => runCli(args, { env });
  const status = (name) => sh('playerctl', ['-p', name, 'status'], { env: bus.env });
  const names = [mpv.name, 'vlc', web.name];

  let r = await mg('play', 'players', '--json');
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout).map((p) => p.name).sort(), [...names].sort(), 'three players, VLC once');

  r = await mg('status', '--all-players', '--json');
  t.equal(r.code, 0, r.stderr);
  const all = JSON.parse(r.stdout);
  t.same(all.map((s) => s.player).sort(), [...names].sort(), 'status -a: one JSON entry per player');
  t.equal(all.find((s) => s.player === web.name).title, 'WebTitle', "Chromium's Media Session metadata");
  r = await mg('status', '-a', '--format', '{{player}}={{status}}');
  t.same(r.stdout.trim().split('\n').sort(), names.map((n) => `${n}=playing`).sort(), 'status -a --format: one line each');

  r = await mg('pause', '--all-players', '--json');
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout).map((e) => [e.player, e.ok]).sort(), names.map((n) => [n, true]).sort());
  for (const n of names) await waitFor(() => status(n) === 'Paused', { what: `${n} paused` });
  t.pass('--all-players pause paused mpv, VLC and Chromium (playerctl)');

  r = await mg('play', '-a', '--ignore-player', 'chromium');
  t.equal(r.code, 0, r.stderr);
  await waitFor(() => status(mpv.name) === 'Playing' && vlc.playerctl('status') === 'Playing', { what: 'mpv and VLC playing' });
  t.equal(status(web.name), 'Paused', '-i chromium left Chromium paused (its instance name matched by chromium)');

  // Chromium has no shuffle, no loop and opens no URIs: each is a refusal, and it is not touched.
  r = await mg('play', 'shuffle', 'on', '--player', 'chromium');
  t.equal(r.code, 3, 'shuffle on a player without shuffle: exit 3');
  t.match(r.stderr, /has no shuffle setting/);
  r = await mg('play', 'repeat', '--player', 'chromium');
  t.equal(r.code, 3, 'repeat (read) on a player without loop: exit 3');
  r = await mg('play', 'open', 'https://example.org/a.ogg', '--player', 'chromium');
  t.equal(r.code, 3, 'open on a player with no URI schemes: exit 3');
  t.match(r.stderr, /opens no URIs at all/);
  const caps = JSON.parse((await mg('status', '--player', 'chromium', '--json')).stdout).capabilities;
  t.match(caps, { canShuffle: false, canRepeat: false, canOpenUri: false, canPause: true }, 'and its capabilities say so');

  // shuffle -a: VLC does it, Chromium cannot; the command succeeds (one did) and names the refusal.
  r = await mg('play', 'shuffle', 'on', '-a', '-i', mpv.name);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^vlc: on$/m);
  t.match(r.stderr, new RegExp(`${web.name.replace('.', '\\.')}: player '.*' has no shuffle setting`));
  t.equal(vlc.playerctl('shuffle'), 'On');
  r = await mg('play', 'shuffle', 'on', '-a', '-i', mpv.name, '-i', 'vlc');
  t.equal(r.code, 3, 'when no player did it, the first refusal is the exit code');

  r = await mg('play', 'players', '--ignore-player', `vlc,${web.name}`, '--json');
  t.same(JSON.parse(r.stdout).map((p) => p.name), [mpv.name], 'comma-separated -i');
});
