// VLC (cvlc --control dbus, as the unprivileged user mgvlc, on its own bus):
// one player under two bus names, listed once and reached by either name;
// shuffle, repeat, open, queue and metadata change or read the real player,
// checked with playerctl; its ignored volume is reported, not pretended.
import t from 'tap';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startVlcBus, startVlc } from './helpers/vlc.js';
import { playerctlList } from './helpers/dbus.js';
import { waitFor } from './helpers/proc.js';
import { cliEnv, runCli } from './helpers/cli.js';

async function stack(t) {
  const bus = await startVlcBus(t);
  const vlc = await startVlc(t, bus);
  const { env } = cliEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address, MPD_PORT: '1' });
  // A short limit: VLC's ignored volume change is reported once it has passed.
  const r = await runCli(['config', 'set', 'backend.timeoutMs', '1000'], { env });
  if (r.code !== 0) throw new Error(r.stderr);
  const mg = (...args) => runCli(args, { env });
  const json = async (...args) => {
    const res = await mg(...args, '--json');
    if (res.code !== 0) throw new Error(`${args.join(' ')}: exit ${res.code}: ${res.stderr}`);
    return JSON.parse(res.stdout);
  };
  return { bus, vlc, env, mg, json };
}

t.test('VLC: one player under two bus names', async (t) => {
  const { bus, vlc, mg, json } = await stack(t);
  t.same(playerctlList(bus.env).sort(), ['vlc', vlc.instance].sort(), 'playerctl sees two names');

  const rows = await json('play', 'players');
  t.same(rows.map((r) => r.name), ['vlc'], 'play players lists VLC once, under the name without the instance suffix');
  t.same(rows[0].aliases, [vlc.instance], 'its other name is an alias');
  const text = await mg('play', 'players');
  t.equal(text.stdout.trim().split('\n').length, 1, 'one line');

  t.equal((await json('status', '--player', 'vlc')).player, 'vlc');
  t.equal((await json('status', '--player', vlc.instance)).player, 'vlc', '--player vlc.instance<PID> reaches the same player, named vlc');
  let r = await mg('pause', '--player', vlc.instance);
  t.equal(r.code, 0, r.stderr);
  await waitFor(() => vlc.playerctl('status') === 'Paused', { what: 'VLC paused' });
  t.pass('pause through the instance name paused VLC');
  r = await mg('play', '--player', 'vlc');
  t.equal(r.code, 0, r.stderr);
  await waitFor(() => vlc.playerctl('status') === 'Playing', { what: 'VLC playing' });

  // Ignored under either name: not listed, not reached, not changed.
  for (const name of ['vlc', vlc.instance]) {
    r = await mg('pause', '--ignore-player', name);
    t.equal(r.code, 3, `pause -i ${name} with only VLC there: no player (exit 3)`);
    t.equal(vlc.playerctl('status'), 'Playing', 'VLC was not paused');
    r = await mg('pause', '--player', 'vlc', '-i', name);
    t.equal(r.code, 3, `--player vlc -i ${name}: the ignore list wins`);
    t.match(r.stderr, /is ignored/);
    t.equal(vlc.playerctl('status'), 'Playing');
    r = await mg('play', 'players', '-i', name);
    t.equal(r.code, 3, `play players -i ${name}: nothing left`);
  }
});

t.test('VLC: shuffle, repeat, open, queue and metadata change and read the real player', async (t) => {
  const { vlc, mg, json } = await stack(t);

  // Queue: VLC has a TrackList (though it says HasTrackList false). Before shuffling, which reorders it.
  let q = await json('play', 'queue');
  t.same(q.queue.map((e) => e.title), ['SineA', 'SineB']);
  t.same(q.queue.map((e) => e.current), [true, false], 'the current track marked');
  t.equal(q.queue.find((e) => e.current).title, vlc.playerctl('metadata', 'xesam:title'), 'the one playerctl says is playing');
  t.equal(q.queue[1].duration, 30);

  let r = await mg('play', 'shuffle', 'on', '--player', 'vlc');
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), 'on', 'prints what VLC reports');
  t.equal(vlc.playerctl('shuffle'), 'On', 'playerctl: On');
  t.same(await json('play', 'shuffle', 'toggle'), { ok: true, player: 'vlc', action: 'shuffle', shuffle: false });
  t.equal(vlc.playerctl('shuffle'), 'Off');
  t.same(await json('play', 'shuffle'), { player: 'vlc', shuffle: false }, 'bare: the current value');

  for (const [mode, loop] of [['track', 'Track'], ['playlist', 'Playlist'], ['off', 'None']]) {
    r = await mg('play', 'repeat', mode);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.trim(), mode);
    t.equal(vlc.playerctl('loop'), loop, `repeat ${mode} → playerctl loop ${loop}`);
  }
  t.equal((await json('play', 'repeat', 'toggle')).repeat, 'playlist', 'toggle steps off → playlist');
  t.equal(vlc.playerctl('loop'), 'Playlist');
  r = await mg('play', 'repeat', 'sideways');
  t.equal(r.code, 2, 'an unknown mode is a usage error');

  // Metadata: VLC's own keys, raw.
  const meta = await json('play', 'metadata');
  t.equal(meta.player, 'vlc');
  t.equal(meta.metadata['xesam:title'], 'SineA');
  t.same(meta.metadata['xesam:artist'], ['Probe'], 'xesam:artist as the list VLC sends');
  t.equal(meta.metadata['mpris:length'], 30000000, 'mpris:length in µs, a number');
  t.ok(Object.keys(meta.metadata).some((k) => k.startsWith('vlc:')), 'player-specific vlc:* keys');
  t.equal((await mg('play', 'metadata', 'xesam:url')).stdout.trim(), vlc.playerctl('metadata', 'xesam:url'), 'one key, as playerctl prints it');

  // Open: a file URI VLC supports, then a scheme it does not.
  const b = pathToFileURL(vlc.files[1]).href;
  r = await mg('play', 'open', b);
  t.equal(r.code, 0, r.stderr);
  await waitFor(() => vlc.playerctl('metadata', 'xesam:url') === b, { what: 'VLC playing b.flac' });
  t.pass('open file://…/b.flac → VLC plays it (playerctl xesam:url)');
  q = await json('play', 'queue');
  t.equal(q.queue.find((e) => e.current)?.uri, b, 'the queue shows it current');
  const before = vlc.playerctl('metadata', 'xesam:url');
  r = await mg('play', 'open', 'spotify:track:4uLU6hMCjMI75M1A2tKUQC');
  t.equal(r.code, 3, 'an unsupported scheme is exit 3');
  t.match(r.stderr, /does not open 'spotify:' URIs; it opens: .*\bhttps?\b/, 'naming the schemes VLC does open');
  t.equal(vlc.playerctl('metadata', 'xesam:url'), before, 'VLC did not change track');
});

t.test('VLC ignores volume changes (dummy audio output): the command says so', async (t) => {
  const { vlc, mg } = await stack(t);
  const r = await mg('volume', '--target', 'player', '50', '--player', 'vlc');
  t.equal(r.code, 3, 'exit 3');
  t.match(r.stderr, /the player did not apply the volume change \(asked for 50, it reports 0\)/);
  t.equal(r.stdout, '', 'no level printed as if it were set');
  t.equal(Number(vlc.playerctl('volume')), 0, 'playerctl: still 0');
});
