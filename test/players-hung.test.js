// A player that owns an org.mpris.MediaPlayer2.* name but never answers (a
// real D-Bus peer that swallows every Properties call), next to mpv and a real
// MPD: it is listed as "not responding", `--player` addresses one player
// directly (the hung one is a timeout, an unrelated one is never asked), and
// a name that matches nothing lists the players of both backends.
import t from 'tap';
import { join } from 'node:path';
import { startSessionBus, startMpv, startFakePlayer } from './helpers/dbus.js';
import { startMpd } from './helpers/mpd.js';
import { makeMusic, tempDir } from './helpers/proc.js';
import { cliEnv, runCli } from './helpers/cli.js';

const bus = await startSessionBus(t);
const music = makeMusic(join(tempDir(t), 'music'));
const mpv = await startMpv(t, bus, [join(music, 'a.ogg')]);
const mpd = await startMpd(t, { musicDir: music });
const hung = await startFakePlayer(t, bus, { name: 'hung', hang: true });
const { env } = cliEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address, MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) });
const mg = (...args) => runCli(args, { env });
// A short time limit keeps the hung cases quick; the behaviour is the same at 3 s.
t.equal((await mg('config', 'set', 'backend.timeoutMs', '400')).code, 0);

t.test('play players lists the hung player as not responding', async (t) => {
  let r = await mg('play', 'players');
  t.equal(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => /\bhung\b/.test(l));
  t.ok(line, `hung is listed:\n${r.stdout}`);
  t.match(line, /not responding/);
  t.match(r.stdout, new RegExp(`${mpv.name}\\s+playing`), 'mpv listed with its state');
  t.match(r.stdout, /mpd\s+(stopped|paused|playing)/, 'mpd listed');
  t.notMatch(r.stderr, /hung/, 'the hung player is a row, not a note repeated on stderr');

  r = await mg('play', 'players', '--json');
  t.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  const h = rows.find((x) => x.name === 'hung');
  t.equal(h.responding, false, 'flagged in --json');
  t.equal(h.status, 'unknown');
  t.equal(h.backend, 'mpris');
  t.equal(h.active, false);
  t.match(h.error, /did not answer within 400 ms/);
  t.same(rows.filter((x) => x.responding).map((x) => x.name).sort(), ['mpd', mpv.name].sort());
  t.same(rows.filter((x) => x.active).map((x) => x.name), [mpv.name], 'the playing mpv is the active one');
});

t.test('--player hung: a timeout error naming it, not "no player named"', async (t) => {
  const r = await mg('status', '--player', 'hung');
  t.equal(r.code, 3, 'exit 3 (player not usable)');
  t.match(r.stderr, /player 'hung'.*did not answer within 400 ms/);
  t.notMatch(r.stderr, /no player named/);
  const a = await mg('pause', '--player', 'hung');
  t.equal(a.code, 3);
  t.match(a.stderr, /did not answer/);
});

t.test('--player mpv / mpd never asks the hung player', async (t) => {
  const before = hung.propCalls;
  let r = await mg('status', '--player', mpv.name, '--json');
  t.equal(r.code, 0, r.stderr);
  t.equal(JSON.parse(r.stdout).player, mpv.name);
  r = await mg('status', '--player', 'mpd', '--json');
  t.equal(r.code, 0, r.stderr);
  t.equal(JSON.parse(r.stdout).player, 'mpd');
  t.equal(hung.propCalls, before, 'no Properties call reached the hung player');
  // A bare command must look at every player; the hung one costs its time limit and is passed over.
  r = await mg('status', '--json');
  t.equal(r.code, 0, r.stderr);
  t.equal(JSON.parse(r.stdout).player, mpv.name);
  t.ok(hung.propCalls > before, 'bare status did ask it (and went on without it)');
});

t.test('--player nosuch: the hint names the players of both backends', async (t) => {
  const r = await mg('status', '--player', 'nosuch');
  t.equal(r.code, 3);
  t.match(r.stderr, /no player named 'nosuch'/);
  const hint = /available players: (.*)/.exec(r.stderr)?.[1] ?? '';
  t.same(hint.split(', ').sort(), ['hung', 'mpd', mpv.name].sort(), `hint: ${hint}`);
});

t.test('--player nosuch with MPD down: the MPRIS names only, still exit 3', async (t) => {
  const r = await runCli(['status', '--player', 'nosuch'], { env: { ...env, MPD_PORT: '1' } });
  t.equal(r.code, 3);
  const hint = /available players: (.*)/.exec(r.stderr)?.[1] ?? '';
  t.same(hint.split(', ').sort(), ['hung', mpv.name].sort(), `hint: ${hint}`);
});
