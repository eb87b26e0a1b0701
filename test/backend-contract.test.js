// ONE contract every player backend passes, through the real CLI: MPRIS
// (mpv + mpv-mpris on a private bus) and MPD against the real daemons,
// macOS (media-control, and AppleScript) and Windows (the PowerShell helper)
// against their fakes on PATH. Same status shape, same player rows, same
// capability rules, same errors and exit codes.
import t from 'tap';
import { join } from 'node:path';
import { cliEnv, runCli } from './helpers/cli.js';
import { startSessionBus, startMpv } from './helpers/dbus.js';
import { startMpd } from './helpers/mpd.js';
import { makeMusic, tempDir } from './helpers/proc.js';
import { fakeDesktop } from './helpers/fake-desktop.js';

const STATUS_KEYS = ['player', 'status', 'title', 'artist', 'album', 'duration', 'position', 'positionUpdatedAt', 'volume', 'shuffle', 'repeat', 'artUrl', 'capabilities'];
const CAP_KEYS = ['canPlay', 'canPause', 'canSeek', 'canGoNext', 'canGoPrevious', 'canSetVolume', 'canControl', 'canShuffle', 'canRepeat', 'canOpenUri'];
const ROW_KEYS = ['name', 'backend', 'status', 'responding', 'title', 'artist', 'active', 'capabilities', 'aliases'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const BACKENDS = {
  async mpris(t) {
    const bus = await startSessionBus(t);
    const mpv = await startMpv(t, bus, [join(makeMusic(tempDir(t, 'mg-music-')), 'a.ogg')]);
    const { env } = cliEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address, MPD_PORT: '1' });
    return { env, name: mpv.name, backend: 'mpris', named: true };
  },
  async mpd(t) {
    const mpd = await startMpd(t);
    const { env } = cliEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) });
    return { env, name: 'mpd', backend: 'mpd', named: false };
  },
  async 'macos (media-control)'(t) {
    const fake = fakeDesktop(t);
    const { env } = cliEnv(t, { ...fake.env('darwin'), MPD_PORT: '1' });
    return { env, name: 'spotify', backend: 'macos', named: true };
  },
  async 'macos (AppleScript)'(t) {
    const fake = fakeDesktop(t, { scenario: { 'media-control': { test: 1 } } });
    const { env } = cliEnv(t, { ...fake.env('darwin'), MPD_PORT: '1' });
    return { env, name: 'music', backend: 'macos', named: true };
  },
  async windows(t) {
    const fake = fakeDesktop(t);
    const { env } = cliEnv(t, { ...fake.env('win32'), MPD_PORT: '1' });
    return { env, name: 'spotify', backend: 'windows', named: true };
  },
};

function checkStatusShape(t, s, name) {
  t.same(Object.keys(s).sort(), [...STATUS_KEYS].sort(), 'status JSON has exactly the documented keys');
  t.equal(s.player, name);
  t.ok(['playing', 'paused', 'stopped'].includes(s.status), `status ${s.status}`);
  for (const k of ['title', 'artist', 'album', 'artUrl', 'positionUpdatedAt']) t.ok(s[k] === null || typeof s[k] === 'string', `${k} is a string or null`);
  for (const k of ['duration', 'position', 'volume']) t.ok(s[k] === null || (typeof s[k] === 'number' && s[k] >= 0), `${k} is a number ≥ 0 or null`);
  if (s.position !== null) t.ok(!Number.isNaN(Date.parse(s.positionUpdatedAt)), 'a position comes with the time it was read');
  t.ok(s.shuffle === null || typeof s.shuffle === 'boolean');
  t.ok(s.repeat === null || ['off', 'track', 'playlist'].includes(s.repeat));
  t.same(Object.keys(s.capabilities).sort(), [...CAP_KEYS].sort(), 'capabilities have exactly the documented keys');
  for (const k of CAP_KEYS) t.equal(typeof s.capabilities[k], 'boolean', `${k} is a boolean`);
}

async function statusOf(env, name) {
  const r = await runCli(['status', '--player', name, '--json'], { env });
  if (r.code !== 0) throw new Error(`status failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function eventually(fn, what, ms = 8000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) { last = await fn(); if (last.ok) return last; await sleep(150); }
  throw new Error(`${what}: ${JSON.stringify(last)}`);
}

const only = process.env.CONTRACT_ONLY;
for (const [label, setup] of Object.entries(BACKENDS).filter(([l]) => !only || l.startsWith(only))) {
  t.test(`contract: ${label}`, async (t) => {
    const { env, name, backend, named } = await setup(t);
    let r = await runCli(['play', '--player', name], { env });
    t.equal(r.code, 0, `play: ${r.stderr}`);
    const playing = await eventually(async () => { const s = await statusOf(env, name); return { ok: s.status === 'playing', s }; }, 'playing after play');
    checkStatusShape(t, playing.s, name);

    r = await runCli(['play', 'players', '--json'], { env });
    const rows = JSON.parse(r.stdout);
    const row = rows.find((x) => x.name === name);
    t.ok(row, 'listed by play players');
    t.same(Object.keys(row).sort(), [...ROW_KEYS].sort(), 'a player row has the documented keys');
    t.match(row, { backend, responding: true, status: 'playing' });

    r = await runCli(['pause', '--player', name], { env });
    t.equal(r.code, 0, `pause: ${r.stderr}`);
    await eventually(async () => { const s = await statusOf(env, name); return { ok: s.status === 'paused', s }; }, 'paused after pause');

    const caps = playing.s.capabilities;
    r = await runCli(['play', 'seek', '5', '--player', name, '--json'], { env });
    if (caps.canSeek) {
      t.equal(r.code, 0, `seek: ${r.stderr}`);
      const s = await statusOf(env, name);
      t.ok(s.position >= 4 && s.position < 9, `position after seek 5: ${s.position}`);
    } else {
      t.equal(r.code, 3, 'a player that cannot seek says so with exit 3');
    }
    r = await runCli(['play', 'seek', 'abc', '--player', name], { env });
    t.equal(r.code, 2, 'a bad seek position is a usage error');

    r = await runCli(['volume', '--target', 'player', '--player', name, '--json'], { env });
    if (caps.canSetVolume) {
      t.equal(r.code, 0, `player volume: ${r.stderr}`);
      t.match(JSON.parse(r.stdout), { target: 'player', backend: 'player' });
    } else {
      t.equal(r.code, 3, 'no volume of its own: exit 3');
      t.match(JSON.parse(r.stderr.trim().split('\n').pop()), { error: { code: 'player.unsupported' } });
    }

    r = await runCli(['next', '--player', name, '--json'], { env });
    t.equal(r.code, caps.canGoNext ? 0 : 3, `next follows canGoNext (${caps.canGoNext}): ${r.stderr}`);

    if (named) {
      r = await runCli(['status', '--player', 'nosuchplayer', '--json'], { env });
      t.equal(r.code, 3, 'an unknown player: exit 3');
      t.match(JSON.parse(r.stderr.trim().split('\n').pop()), { error: { code: 'player.not_found', hint: /available players: .*/ } });
    }
    r = await runCli(['volume', '150'], { env });
    t.equal(r.code, 2, 'volume 150 is a usage error everywhere');
  });
}
