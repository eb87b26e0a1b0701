// The CLI against mpv + mpv-mpris on a private D-Bus session bus (checked with
// playerctl), and choosing between it and a real MPD.
import t from 'tap';
import { join } from 'node:path';
import { startSessionBus, startMpv } from './helpers/dbus.js';
import { startMpd } from './helpers/mpd.js';
import { makeMusic, tempDir } from './helpers/proc.js';
import { cliEnv, followCli, runCli } from './helpers/cli.js';

async function stack(t, { withMpd = false } = {}) {
  const bus = await startSessionBus(t);
  const music = makeMusic(join(tempDir(t), 'music'));
  const mpv = await startMpv(t, bus, [join(music, 'a.ogg'), join(music, 'b.flac')]);
  const mpd = withMpd ? await startMpd(t, { musicDir: music }) : undefined;
  const { env } = cliEnv(t, {
    DBUS_SESSION_BUS_ADDRESS: bus.address,
    ...(mpd ? { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) } : { MPD_PORT: '1' }),
  });
  return { bus, mpv, mpd, env };
}

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

t.test('play commands drive mpv over MPRIS', async (t) => {
  const { mpv, env } = await stack(t);
  const mg = (...args) => runCli(args, { env });

  let r = await mg('status', '--json');
  t.equal(r.code, 0, r.stderr);
  let s = JSON.parse(r.stdout);
  t.equal(s.player, mpv.name);
  t.equal(s.title, 'SineA');
  t.equal(s.artist, 'Probe');
  t.equal(s.status, 'playing');

  r = await mg('pause');
  t.equal(r.code, 0, r.stderr);
  await settle();
  t.equal(mpv.playerctl('status'), 'Paused', 'pause → playerctl Paused');
  r = await mg('toggle');
  await settle();
  t.equal(mpv.playerctl('status'), 'Playing', 'toggle → Playing');
  r = await mg('next');
  t.equal(r.code, 0, r.stderr);
  await settle(300);
  t.equal(mpv.playerctl('metadata', 'xesam:title'), 'SineB', 'next → SineB');
  r = await mg('play', 'pause', '--player', 'mpv');
  await settle();
  r = await mg('play', 'seek', '12', '--player', 'mpv');
  t.equal(r.code, 0, r.stderr);
  await settle();
  t.ok(Math.abs(Number(mpv.playerctl('position')) - 12) < 0.6, 'seek 12 → playerctl position ≈ 12');
  r = await mg('volume', '35', '--target', 'player');
  t.equal(r.code, 0, r.stderr);
  await settle();
  t.equal(Number(mpv.playerctl('volume')).toFixed(2), '0.35', 'player volume 35 → playerctl 0.35');

  // status reflects changes made by playerctl
  mpv.playerctl('volume', '0.6');
  mpv.playerctl('play');
  await settle();
  s = JSON.parse((await mg('status', '--json', '--player', 'mpv')).stdout);
  t.equal(s.volume, 60);
  t.equal(s.status, 'playing');

  r = await mg('play', 'stop');
  await settle();
  t.equal(mpv.playerctl('status'), 'Stopped', 'stop → Stopped');
});

t.test('resume, prev, and relative / percent seek on mpv, checked with playerctl', async (t) => {
  const { mpv, env } = await stack(t);
  const mg = (...args) => runCli(args, { env });
  const position = () => Number(mpv.playerctl('position'));
  const near = (want, what) => t.ok(Math.abs(position() - want) < 0.6, `${what}: playerctl position ${position()} ≈ ${want}`);

  mpv.playerctl('pause');
  await settle();
  let r = await mg('play');
  t.equal(r.code, 0, r.stderr);
  await settle();
  t.equal(mpv.playerctl('status'), 'Playing', 'bare `mediagate play` resumes the paused mpv');

  r = await mg('next');
  await settle(300);
  t.equal(mpv.playerctl('metadata', 'xesam:title'), 'SineB');
  r = await mg('prev');
  t.equal(r.code, 0, r.stderr);
  await settle(300);
  t.equal(mpv.playerctl('metadata', 'xesam:title'), 'SineA', 'prev → back to SineA');

  // Paused, so the position stays where the seek put it.
  mpv.playerctl('pause');
  await settle();
  r = await mg('play', 'seek', '10');
  t.equal(r.code, 0, r.stderr);
  await settle();
  near(10, 'seek 10');
  r = await mg('play', 'seek', '+10');
  t.equal(r.code, 0, r.stderr);
  await settle();
  near(20, 'seek +10');
  r = await mg('play', 'seek', '-15');
  t.equal(r.code, 0, r.stderr);
  await settle();
  near(5, 'seek -15 (leading dash)');
  r = await mg('play', 'seek', '50%', '--json');
  t.equal(r.code, 0, r.stderr);
  await settle();
  near(15, 'seek 50% of 30 s');
  t.ok(Math.abs(JSON.parse(r.stdout).position - 15) < 0.6, 'the JSON answer reports the new position');
});

t.test('--follow sees a playerctl change within 1 s', async (t) => {
  const { mpv, env } = await stack(t);
  const f = followCli(t, ['status', '--follow', '--format', '{{status}} {{title}}', '--player', 'mpv'], env);
  const line = (n) => f.nth(n);
  t.equal(await line(1), 'playing SineA');
  const start = Date.now();
  mpv.playerctl('pause');
  t.equal(await line(2), 'paused SineA');
  const ms = Date.now() - start;
  t.ok(ms < 1000, `pause seen in ${ms} ms`);
  const exit = new Promise((r) => f.child.once('exit', r));
  f.child.kill('SIGTERM');
  t.equal(await exit, 0, 'exits cleanly on SIGTERM');
});

t.test('bare commands act on the most recently active player', async (t) => {
  const { mpv, mpd, env } = await stack(t, { withMpd: true });
  mpv.playerctl('pause');
  mpd.mpc('-q', 'play');
  await settle();
  let r = await runCli(['status', '--json'], { env });
  t.equal(JSON.parse(r.stdout).player, 'mpd', 'the playing MPD wins over paused mpv');
  r = await runCli(['play', 'players', '--json'], { env });
  const players = JSON.parse(r.stdout);
  t.same(players.map((p) => p.name).sort(), ['mpd', mpv.name].sort());
  t.same(players.filter((p) => p.active).map((p) => p.name), ['mpd']);

  r = await runCli(['pause'], { env });
  t.equal(r.code, 0, r.stderr);
  t.match(mpd.mpc('status'), /\[paused\]/, 'bare pause paused MPD');
  t.equal(mpv.playerctl('status'), 'Paused', 'mpv untouched');

  // Both paused: the one mediagate last controlled wins. mpd first: it is listed
  // after mpv, so only the memory can make it win the tie.
  const touch = async (name) => {
    for (const cmd of ['play', 'pause']) {
      r = await runCli([cmd, '--player', name], { env });
      t.equal(r.code, 0, r.stderr);
      await settle();
    }
  };
  await touch('mpv');
  await touch('mpd');
  r = await runCli(['status', '--json'], { env });
  t.equal(JSON.parse(r.stdout).player, 'mpd', 'last controlled (mpd) wins among paused ones');
  r = await runCli(['play', 'players', '--json'], { env });
  t.same(JSON.parse(r.stdout).filter((p) => p.active).map((p) => p.name), ['mpd'], 'play players marks the same one');
  await touch(mpv.name);
  r = await runCli(['status', '--json'], { env });
  t.equal(JSON.parse(r.stdout).player, mpv.name, 'and back: last controlled (mpv) wins');
});

/** `mediagate status --follow ...args`: `until(re, from)` resolves the 1-based number of the first matching line from `from` on. */
function follow(t, env, args = []) {
  const f = followCli(t, ['status', '--follow', ...args], env);
  const until = (re, from = 0) => f.line((l) => re.test(l), { from, ms: 5000, what: `line matching ${re}` }).then((r) => r.index + 1);
  const stop = async () => {
    const exit = new Promise((r) => f.child.once('exit', r));
    f.child.kill('SIGTERM');
    return exit;
  };
  return { lines: f.lines, until, stop };
}

t.test('a change made by playerctl or mpc, seen by a running --follow, makes that player the default', async (t) => {
  const { mpv, mpd, env } = await stack(t, { withMpd: true });
  const status = async () => JSON.parse((await runCli(['status', '--json'], { env })).stdout).player;
  mpv.playerctl('pause');
  mpd.mpc('-q', 'play');
  mpd.mpc('-q', 'pause');
  for (const cmd of ['play', 'pause']) t.equal((await runCli([cmd, '--player', 'mpd'], { env })).code, 0);
  t.equal(await status(), 'mpd', 'start: both paused, mpd last controlled');

  const f = follow(t, env);
  let n = await f.until(/^mpd: paused/);
  t.pass('--follow starts on the remembered player (mpd), not the first listed');
  mpv.playerctl('play');
  n = await f.until(new RegExp(`^${mpv.name}: playing`), n);
  mpv.playerctl('pause');
  n = await f.until(new RegExp(`^${mpv.name}: paused`), n);
  t.pass('--follow keeps the player that changed last (mpv) once both are paused');
  t.equal(await status(), mpv.name, 'a separate bare status now picks mpv: the follower recorded it');
  t.equal(JSON.parse((await runCli(['play', 'players', '--json'], { env })).stdout).find((p) => p.active)?.name, mpv.name);

  mpd.mpc('-q', 'play');
  n = await f.until(/^mpd: playing/, n);
  mpd.mpc('-q', 'pause');
  n = await f.until(/^mpd: paused/, n);
  t.equal(await status(), 'mpd', 'an mpc change seen by the follower makes mpd the default');
  t.equal(await f.stop(), 0);

  // Nobody watching: a single CLI call cannot know about a change made elsewhere.
  mpv.playerctl('play');
  await settle(300);
  mpv.playerctl('pause');
  await settle(300);
  t.equal(await status(), 'mpd', 'without a follower or serve, the record stays (documented)');
});

t.test('denied: no session bus, dead bus address, unknown player', async (t) => {
  const { env } = cliEnv(t, { MPD_PORT: '1' });
  let r = await runCli(['status', '--player', 'mpv'], { env });
  t.equal(r.code, 3);
  t.match(r.stderr, /no D-Bus session bus/);
  t.match(r.stderr, /DBUS_SESSION_BUS_ADDRESS/);

  r = await runCli(['status', '--player', 'mpv'], { env: { ...env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' } });
  t.equal(r.code, 3, 'a bus address that points nowhere → exit 3');

  const { env: env2, mpv } = await stack(t);
  r = await runCli(['status', '--player', 'vlc'], { env: env2 });
  t.equal(r.code, 3);
  t.match(r.stderr, /no player named 'vlc'/);
  t.match(r.stderr, new RegExp(`available players: ${mpv.name}`));
});
