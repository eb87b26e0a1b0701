// The playerctl mode where playerctl itself cannot go: a REAL MPD (each value
// checked with mpc), a REAL `mediagate serve` reached with --remote (the same
// bytes as on the server's machine), a bin invoked under the name playerctl,
// and the audit record of what it controls. Also mediagate's own --format
// reading raw metadata keys from MPD.
import t from 'tap';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, runCli } from './helpers/cli.js';
import { run } from './helpers/playerctl-diff.js';
import { tempDir } from './helpers/proc.js';
import { remoteSetup, mpcState, mpcVolume } from './remote-setup.js';

t.setTimeout(300000);

const { mpd, local, remote, server } = await remoteSetup(t);
const pc = (...args) => local('playerctl', ...args);
const elapsed = () => { const m = /\s(\d+):(\d\d)\/\d+:\d\d/.exec(mpd.mpc('status')); return m ? Number(m[1]) * 60 + Number(m[2]) : NaN; };
const until = async (check, what) => {
  const end = Date.now() + 5000;
  while (Date.now() < end) { if (check()) return; await new Promise((r) => setTimeout(r, 50)); }
  throw new Error(`MPD did not reach: ${what}`);
};

mpd.mpc('-q', 'play', '1');
mpd.mpc('-q', 'volume', '40');
mpd.mpc('-q', 'repeat', 'off');
mpd.mpc('-q', 'single', 'off');
mpd.mpc('-q', 'random', 'off');

t.test('MPD: what playerctl would print, checked against mpc', async (t) => {
  let r = await pc('-l');
  t.same([r.code, r.stdout, r.stderr], [0, 'mpd\n', ''], 'MPD is a player named mpd');
  r = await pc('status');
  t.same([r.code, r.stdout], [0, 'Playing\n'], `status (mpc: ${mpcState(mpd)})`);
  r = await pc('-p', 'mpd', 'metadata', 'title');
  t.equal(r.stdout, `${mpd.mpc('current', '-f', '%title%')}\n`, 'metadata title');
  r = await pc('metadata', '--format', '{{artist}} - {{title}}');
  t.equal(r.stdout, `${mpd.mpc('current', '-f', '%artist% - %title%')}\n`, 'the usual status-bar template');
  r = await pc('metadata', '--format', '{{duration(mpris:length)}} {{playerName}} {{lc(status)}} [{{xesam:trackNumber}}] {{mpris:trackid}}');
  t.equal(r.stdout, "0:30 mpd playing [] '/org/mpris/MediaPlayer2/Track/1'\n", 'length in microseconds, an object-path track id, as MPRIS players give them');
  r = await pc('metadata', '--format', '{{xesam:trackNumber + 1}}');
  t.same([r.code, r.stdout, r.stderr], [1, '', 'Could not execute command: Got unsupported operand type for +: NULL\n'], 'arithmetic on a missing key: playerctl\'s error');
  r = await pc('metadata', 'mpris:length');
  t.equal(r.stdout, '30000000\n');
  r = await pc('volume');
  t.equal(r.stdout, `${(mpcVolume(mpd) / 100).toFixed(6)}\n`, 'volume 0–1');
  r = await pc('loop');
  t.equal(r.stdout, 'None\n');
  r = await pc('shuffle');
  t.equal(r.stdout, 'Off\n');
  r = await pc('-p', 'mpd', 'metadata');
  t.match(r.stdout, /^mpd {3}xesam:title {15}SineA\nmpd {3}xesam:artist {14}Probe$/m, 'the metadata table');
  t.match(r.stdout, /^mpd {3}mpris:length {14}30000000$/m);
});

t.test('MPD: control commands change MPD (mpc sees it)', async (t) => {
  let r = await pc('-p', 'mpd', 'pause');
  t.same([r.code, r.stdout, r.stderr], [0, '', '']);
  t.equal(mpcState(mpd), 'paused', 'pause');
  await pc('play-pause');
  t.equal(mpcState(mpd), 'playing', 'play-pause');
  await pc('next');
  await until(() => mpd.mpc('current', '-f', '%title%') === 'SineB', 'the next song');
  t.pass('next');
  await pc('previous');
  await until(() => mpd.mpc('current', '-f', '%title%') === 'SineA', 'the previous song');
  t.pass('previous');
  await pc('pause');
  await pc('position', '20');
  await until(() => elapsed() === 20, 'position 20');
  r = await pc('position');
  t.match(r.stdout, /^20\.\d{6}\n$/, 'position after seeking');
  await pc('position', '5-');
  await until(() => elapsed() === 15, 'position 15');
  t.pass('position 5-');
  await pc('volume', '0.25');
  t.equal(mpcVolume(mpd), 25, 'volume 0.25');
  await pc('volume', '0.1+');
  t.equal(mpcVolume(mpd), 35, 'volume 0.1+');
  await pc('volume', '7');
  t.equal(mpcVolume(mpd), 100, 'a level above 1 is clamped (MPD refuses it)');
  await pc('loop', 'Track');
  t.match(mpd.mpc('status'), /repeat: on\s+random: off\s+single: on/, 'loop Track: repeat + single');
  await pc('loop', 'playlist');
  t.match(mpd.mpc('status'), /repeat: on\s+random: off\s+single: off/, 'loop Playlist: repeat');
  r = await pc('loop');
  t.equal(r.stdout, 'Playlist\n');
  await pc('shuffle', 'toggle');
  t.match(mpd.mpc('status'), /random: on/, 'shuffle toggle');
  r = await pc('shuffle');
  t.equal(r.stdout, 'On\n');
  await pc('shuffle', 'off');
  await pc('loop', 'none');
  t.match(mpd.mpc('status'), /repeat: off\s+random: off\s+single: off/, 'back to none/off');
  r = await pc('-p', 'mpd', 'loop', 'sometimes');
  t.same([r.code, r.stderr], [1, "Could not execute command: Got unknown loop status: 'sometimes' (expected 'none', 'playlist', or 'track').\n"], 'bad input: playerctl\'s message');
  t.equal(mpcState(mpd), 'paused', 'and nothing changed');
  await pc('play');
  t.equal(mpcState(mpd), 'playing', 'play');
});

t.test('MPD down: no players found (and a status bar gets playerctl\'s exit code)', async (t) => {
  const r = await runCli(['playerctl', 'status'], { env: { ...server.env, MPD_HOST: join(tempDir(t), 'none.sock'), MPD_PORT: '' } });
  t.same([r.code, r.stdout, r.stderr], [1, '', 'No players found\n']);
  const quiet = await runCli(['playerctl', '-s', '-l'], { env: { ...server.env, MPD_HOST: join(tempDir(t), 'none.sock') } });
  t.same([quiet.code, quiet.stdout, quiet.stderr], [0, '', '']);
});

t.test('mediagate status --format reads raw metadata keys from MPD', async (t) => {
  const r = await local('status', '--player', 'mpd', '--format', '{{xesam:title}}|{{xesam:artist}}|{{mpris:length}}|{{duration(mpris:length / 1000000)}}|{{mpd:file}}|{{xesam:nope}}|{{title + " by " + artist}}');
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, `SineA|Probe|30000000|0:30|${mpd.mpc('current', '-f', '%file%')}||SineA by Probe\n`);
  const bad = await local('status', '--format', '{{shout(title)}}');
  t.same([bad.code, bad.stdout], [2, ''], 'an unknown function is a usage error before any output');
});

t.test('--remote: the same bytes as on the server\'s machine, and the server\'s MPD changes', async (t) => {
  for (const args of [
    ['-l'], ['status'], ['-p', 'mpd', 'metadata'], ['metadata', '--format', '{{emoji(status)}} {{artist}} - {{trunc(title, 3)}} {{volume}}'],
    ['volume'], ['-p', 'mpd', 'metadata', 'xesam:artist'], ['-p', 'nope', 'status'], ['loop'], ['shuffle'], ['bogus'],
  ]) {
    const l = await pc(...args);
    const r = await remote('playerctl', ...args);
    t.same([r.code, r.stdout, r.stderr], [l.code, l.stdout, l.stderr], `playerctl ${args.join(' ')}`);
  }
  const r = await remote('playerctl', '-p', 'mpd', 'pause');
  t.equal(r.code, 0, r.stderr);
  t.equal(mpcState(mpd), 'paused', 'paused over --remote');
  await remote('playerctl', 'volume', '0.5');
  t.equal(mpcVolume(mpd), 50, 'volume over --remote');
  await remote('playerctl', 'play');
  t.equal(mpcState(mpd), 'playing');
});

t.test('a bin named playerctl is the playerctl mode, on the fast path', async (t) => {
  const dir = tempDir(t);
  const link = join(dir, 'playerctl');
  symlinkSync(BIN, link);
  let r = await run(link, ['-p', 'mpd', 'status'], { ...server.env, MEDIAGATE_DEBUG_DISPATCH: '1' });
  t.same([r.code, r.stdout, r.stderr], [0, 'Playing\n', 'dispatch: fast playerctl\n'], 'no oclif');
  r = await run(link, ['-h'], server.env);
  t.match(r.stdout, /^Usage:\n {2}playerctl \[OPTION…\] COMMAND - Controller for media players\n/);
  t.equal(r.code, 0);
  r = await run(link, [], server.env);
  t.same([r.code, r.stdout.split('\n')[0]], [1, 'Usage:'], 'no command: the help, exit 1 (as playerctl)');
  r = await run(process.execPath, [BIN, 'playerctl', '--version'], server.env);
  t.same([r.code, r.stdout], [0, 'v2.4.1\n']);
  r = await run(process.execPath, [BIN, 'playerctl', '-p', 'mpd', 'status'], { ...server.env, MEDIAGATE_NO_FAST_PATH: '1' });
  t.same([r.code, r.stdout], [0, 'Playing\n'], 'through oclif too');
  // `mediagate playerctl --help` is playerctl's own help (above); mediagate's
  // command list names the mode, and its man page holds the rest.
  r = await run(process.execPath, [BIN, '--help'], server.env);
  t.match(r.stdout, /^ {2}playerctl +playerctl 2\.4's command line and output/m, 'mediagate --help lists the mode');
});

t.test('control is audited as the other commands are; reading is not', async (t) => {
  const events = async () => JSON.parse((await local('audit', '--json', '--actor', 'local:')).stdout || '[]')
    .filter((e) => (e.actor?.id ?? '').startsWith('local:'));
  const before = (await events()).length;
  await pc('metadata', 'title');
  await pc('status');
  t.equal((await events()).length, before, 'reads leave no record');
  await pc('-p', 'mpd', 'pause');
  await pc('volume', '0.3');
  const added = (await events()).slice(before);
  t.match(added, [{ action: 'player.pause', target: 'mpd', outcome: 'ok' }, { action: 'volume.set', target: 'mpd', outcome: 'ok' }]);
  await pc('play');
});
