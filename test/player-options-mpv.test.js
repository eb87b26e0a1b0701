// shuffle, repeat, open, metadata and queue on a REAL mpv + mpv-mpris on a
// private bus, checked with playerctl; refusals (a scheme mpv does not open,
// no TrackList, an ignored player) leave it as it was.
import t from 'tap';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startSessionBus, startMpv } from './helpers/dbus.js';
import { makeMusic, tempDir, waitFor } from './helpers/proc.js';
import { cliEnv, runCli } from './helpers/cli.js';

t.test('mpv: each control changes the player (playerctl)', async (t) => {
  const bus = await startSessionBus(t);
  const music = makeMusic(join(tempDir(t), 'music'));
  const mpv = await startMpv(t, bus, [join(music, 'a.ogg')]);
  const { env } = cliEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address, MPD_PORT: '1' });
  const mg = (...a) => runCli(a, { env });

  let r = await mg('play', 'shuffle', 'on');
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), 'on', 'prints what mpv reports');
  t.equal(mpv.playerctl('shuffle'), 'On', 'playerctl: On');
  // mpv-mpris takes Shuffle=false but keeps reporting true (playerctl shuffle Off
  // does the same): the command says what the player has, not what was asked.
  r = await mg('play', 'shuffle', 'toggle', '--json');
  t.equal(r.code, 3, 'mpv ignores shuffle off: exit 3');
  t.match(JSON.parse(r.stdout || r.stderr).error, { code: 'player.not_applied', message: /the player did not apply the shuffle change \(asked for off, mpv reports on\)/ });
  t.equal(mpv.playerctl('shuffle'), 'On', 'playerctl agrees: still On');

  for (const [mode, loop] of [['track', 'Track'], ['playlist', 'Playlist'], ['off', 'None']]) {
    r = await mg('play', 'repeat', mode, '--player', mpv.name);
    t.equal(r.code, 0, r.stderr);
    t.equal(mpv.playerctl('loop'), loop, `repeat ${mode} → playerctl loop ${loop}`);
  }

  r = await mg('play', 'metadata', '--json');
  t.equal(r.code, 0, r.stderr);
  const meta = JSON.parse(r.stdout).metadata;
  t.equal(meta['xesam:title'], 'SineA');
  t.equal((await mg('play', 'metadata', 'xesam:title')).stdout.trim(), mpv.playerctl('metadata', 'xesam:title'), 'one key as playerctl prints it');

  const b = pathToFileURL(join(music, 'b.flac')).href;
  r = await mg('play', 'open', b);
  t.equal(r.code, 0, r.stderr);
  await waitFor(() => mpv.playerctl('metadata', 'xesam:title') === 'SineB', { what: 'mpv playing b.flac' });
  t.pass('open file://…/b.flac → mpv plays it (playerctl)');

  r = await mg('play', 'open', 'spotify:track:4uLU6hMCjMI75M1A2tKUQC');
  t.equal(r.code, 3, 'a scheme mpv does not list: exit 3');
  t.match(r.stderr, /does not open 'spotify:' URIs; it opens: /);
  t.equal(mpv.playerctl('metadata', 'xesam:title'), 'SineB', 'still b.flac');

  r = await mg('play', 'queue');
  t.equal(r.code, 3, 'mpv-mpris has no TrackList: exit 3');
  t.match(r.stderr, /not supported|no (queue|track ?list)/i);

  r = await mg('play', 'repeat', 'track', '-i', 'mpv');
  t.equal(r.code, 3, 'ignored: not reached');
  t.equal(mpv.playerctl('loop'), 'None', 'loop untouched');
});
