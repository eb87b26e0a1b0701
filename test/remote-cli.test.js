// --remote against a REAL `mediagate serve` process over a REAL MPD: the
// hot commands (play, pause…, seek, status, players, volume) and --follow
// give the same stdout, exit code and effect on the player as the same
// command run on the server's machine; profiles: `remote add` reads the
// token from stdin only and stores it sealed, refuses plain http to another
// machine; `remote use`, MEDIAGATE_REMOTE and `--remote local`.
// Admin commands, auth failures, pairing and TLS: test/remote-admin.test.js.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN } from './helpers/cli.js';
import { remoteSetup, mpcState, mpcSong, mpcVolume, json, filesUnder } from './remote-setup.js';

t.setTimeout(300000);

// The server's machine has one media folder: MPD's music directory (a.ogg, b.flac, c.mp3).
const { mpd, srv, client, local, onClient, remote, settled, same } = await remoteSetup(t, {
  addHome: false,
  serverConfig: (m) => ({ 'media.folders.music': realpathSync(join(m.dir, 'music')), 'mpd.musicDirectory': realpathSync(join(m.dir, 'music')) }),
});

t.test('remote add: token from stdin, checked, stored sealed; never from argv', async (t) => {
  const r = await onClient(['remote', 'add', 'home', srv.url, '--json'], { input: `${srv.adminToken}\n` });
  t.equal(r.code, 0, r.stderr);
  t.match(json(r), { name: 'home', url: srv.url, verified: true, scope: 'admin' });
  t.notOk(r.stdout.includes(srv.adminToken) || r.stderr.includes(srv.adminToken), 'the token is not echoed');

  const cfgText = readFileSync(join(client.configDir, 'config.json'), 'utf8');
  const cfg = JSON.parse(cfgText);
  t.match(cfg.remotes.home, { url: srv.url, token: /^nacl:v1:/ });
  for (const f of [...filesUnder(client.configDir), ...filesUnder(client.stateDir)]) {
    const text = readFileSync(f, 'latin1');
    t.notOk(text.includes(srv.adminToken.slice(3)), `${f} holds no plaintext token`);
  }
  t.equal(statSync(join(client.configDir, 'config.json')).mode & 0o777, 0o600);

  // There is no argument for the token: putting it on the command line is refused and stores nothing.
  const argv = await onClient(['remote', 'add', 'argv', srv.url, srv.adminToken]);
  t.equal(argv.code, 2, 'a token on argv is an unexpected argument');
  t.notOk(readFileSync(join(client.configDir, 'config.json'), 'utf8').includes('"argv"'), 'nothing stored');

  const list = await onClient(['remote', 'list', '--json']);
  t.equal(list.code, 0);
  t.same(json(list), [{ name: 'home', url: srv.url, default: false, token: `••••${srv.adminToken.slice(-4)}`, ca: null }]);
  const human = await onClient(['remote', 'list']);
  t.match(human.stdout, /home\s+http:\/\/127\.0\.0\.1:\d+\s+••••/);

  const dup = await onClient(['remote', 'add', 'home', srv.url], { input: srv.adminToken });
  t.equal(dup.code, 2, 'an existing profile is not replaced without --force');
  const empty = await onClient(['remote', 'add', 'e', srv.url], { input: '' });
  t.equal(empty.code, 2, 'no token on stdin → usage error');
  const local_ = await onClient(['remote', 'add', 'local', srv.url], { input: srv.adminToken });
  t.equal(local_.code, 2, "'local' is reserved");
});

t.test('remote add refuses plain http to another machine', async (t) => {
  const r = await onClient(['remote', 'add', 'lan', 'http://192.0.2.10:8420', '--json'], { input: 'mg_' + 'x'.repeat(43) });
  t.equal(r.code, 2);
  t.match(JSON.parse(r.stderr.trim().split('\n').pop()), { error: { code: 'usage.plain_http', message: /unencrypted/ } });
  t.notOk(readFileSync(join(client.configDir, 'config.json'), 'utf8').includes('"lan"'));
  const allowed = await onClient(['remote', 'add', 'lan', 'http://192.0.2.10:8420', '--allow-plain-http', '--no-verify'], { input: 'mg_' + 'x'.repeat(43) });
  t.equal(allowed.code, 0, allowed.stderr);
  t.match(allowed.stderr, /warning: .*plain HTTP.*unencrypted/);
  t.equal((await onClient(['remote', 'remove', 'lan'])).code, 0);
});

t.test('play commands: same output, exit code and effect as local', async (t) => {
  // Each action from the same starting state, once locally and once remotely: same JSON, same player state after.
  const start = {
    play: () => { mpd.mpc('-q', 'play', '1'); mpd.mpc('-q', 'pause'); },
    pause: () => mpd.mpc('-q', 'play', '1'),
    toggle: () => mpd.mpc('-q', 'play', '1'),
    stop: () => mpd.mpc('-q', 'play', '1'),
    next: () => mpd.mpc('-q', 'play', '1'),
    prev: () => mpd.mpc('-q', 'play', '2'),
  };
  for (const [action, setup] of Object.entries(start)) {
    const args = action === 'play' ? ['play', '--json', '--player', 'mpd'] : ['play', action, '--json', '--player', 'mpd'];
    setup();
    const l = await local(...args);
    const after = [mpcState(mpd), mpcSong(mpd)];
    setup();
    const r = await remote(...args);
    t.equal(r.code, l.code, `${action}: exit code`);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, l.stdout, `${action}: same JSON`);
    t.same([mpcState(mpd), mpcSong(mpd)], after, `${action}: same effect on MPD (${after.join(', ')})`);
  }
  // Without --json: nothing on stdout either way.
  mpd.mpc('-q', 'play', '1');
  await same(t, ['pause', '--player', 'mpd']);
  t.equal(mpcState(mpd), 'paused');
});

t.test('seek', async (t) => {
  for (const pos of ['10', '+5', '-3', '50%', '1:02']) {
    mpd.mpc('-q', 'play', '1'); mpd.mpc('-q', 'pause'); mpd.mpc('-q', 'seek', '8');
    const l = await local('play', 'seek', pos, '--json', '--player', 'mpd');
    mpd.mpc('-q', 'play', '1'); mpd.mpc('-q', 'pause'); mpd.mpc('-q', 'seek', '8');
    await settled((s) => s.status === 'paused' && Math.round(s.position) === 8, 'paused at 8');
    const r = await remote('play', 'seek', pos, '--json', '--player', 'mpd');
    t.equal(r.code, l.code, `seek ${pos}: exit code ${l.code}`);
    t.equal(r.stdout, l.stdout, `seek ${pos}: same answer`);
    t.equal(r.stderr, l.stderr);
  }
  // Past the end of a 30 s track: the server's usage error, exit 2, same message.
  const { r } = await same(t, ['play', 'seek', '5:00', '--player', 'mpd']);
  t.equal(r.code, 2);
  t.match(r.stderr, /past the end of the track/);
  // Bad input never leaves this machine.
  const bad = await remote('play', 'seek', 'soon');
  t.equal(bad.code, 2);
});

t.test('status, players and their errors', async (t) => {
  mpd.mpc('-q', 'play', '1'); mpd.mpc('-q', 'pause'); mpd.mpc('-q', 'seek', '10');
  await settled((s) => s.status === 'paused' && s.title === 'SineA' && Math.round(s.position) === 10, 'paused at 10');
  const sj = await same(t, ['status', '--json', '--player', 'mpd'], { normalize: (s) => s.replace(/"positionUpdatedAt": "[^"]*"/, '"positionUpdatedAt": T') });
  t.equal(json(sj.r).title, 'SineA');
  t.notOk('artwork' in json(sj.r), 'the server\'s extra field is not printed: the JSON is the CLI\'s');
  await same(t, ['status', '--player', 'mpd']);
  await same(t, ['play', 'status', '--player', 'mpd', '--format', '{{artist}} - {{title}} [{{duration(position)}}/{{duration(duration)}}] {{status}}']);
  await same(t, ['status', '--player', 'mpd', '--json', '--format', '{"t":"{{title}}","v":{{volume}}}']);
  // The server lists a backend's problem without its hint, so the note lines are shorter; stdout is the same.
  for (const args of [['play', 'players', '--json'], ['play', 'players']]) {
    const p = await same(t, args, { stderr: false });
    t.match(p.l.stderr, /^note: no D-Bus session bus/m);
    t.match(p.r.stderr, /^note: no D-Bus session bus/m);
  }
  // An unknown player: exit 3 both ways. (The server's status view names the missing player,
  // where the local hub reports the one backend that failed: the message is the server's.)
  const nosuch = await same(t, ['status', '--player', 'nosuch'], { stderr: false });
  t.equal(nosuch.r.code, 3, 'an unknown player is exit 3 over --remote too');
  const act = await same(t, ['pause', '--player', 'nosuch', '--json']);
  t.equal(act.r.code, 3);
  const badFormat = await same(t, ['status', '--player', 'mpd', '--format', '{{nope}}']);
  t.equal(badFormat.r.code, 2, 'a bad template: exit 2 before anything is sent');
});

t.test('volume', async (t) => {
  mpd.mpc('-q', 'play', '1');
  const cases = ['40', '+5', '-5', 'mute', 'unmute', 'toggle-mute'];
  for (const arg of cases) {
    mpd.mpc('-q', 'volume', '50');
    if (arg === 'unmute' || arg === 'toggle-mute') await local('volume', 'mute');
    const l = await local('volume', arg, '--json');
    const lv = mpcVolume(mpd);
    mpd.mpc('-q', 'volume', '50');
    if (arg === 'unmute' || arg === 'toggle-mute') await local('volume', 'mute');
    await new Promise((r) => setTimeout(r, 300)); // let the server see the volume event
    const r = await remote('volume', arg, '--json');
    t.equal(r.code, l.code, `volume ${arg}: exit code`);
    t.equal(r.stdout, l.stdout, `volume ${arg}: same JSON ${l.stdout.replace(/\s+/g, ' ')}`);
    t.equal(mpcVolume(mpd), lv, `volume ${arg}: same level on MPD`);
  }
  mpd.mpc('-q', 'volume', '30');
  await new Promise((r) => setTimeout(r, 300));
  await same(t, ['volume', '--json']);
  await same(t, ['volume']);
  await same(t, ['volume', '--target', 'player', '--player', 'mpd', '--json']);
  const sys = await same(t, ['volume', '20', '--target', 'system']);
  t.equal(sys.r.code, 3, 'no system mixer: exit 3 both ways');
  const over = await same(t, ['volume', '150']);
  t.equal(over.r.code, 2);
});

t.test('remote use, MEDIAGATE_REMOTE and --remote local', async (t) => {
  const viaEnv = await onClient(['status', '--player', 'mpd', '--json'], { env: { MEDIAGATE_REMOTE: 'home' } });
  t.equal(viaEnv.code, 0, viaEnv.stderr);
  t.equal(json(viaEnv).player, 'mpd');
  t.equal((await onClient(['status'])).code, 3, 'no default: this machine (which has no player)');
  const use = await onClient(['remote', 'use', 'home', '--json']);
  t.same(json(use), { default: 'home' });
  t.equal((await onClient(['status', '--player', 'mpd'])).code, 0, 'the default remote is used');
  t.equal((await onClient(['token', 'list', '--json'])).code, 0, 'admin commands too');
  t.equal((await onClient(['status', '--remote', 'local'])).code, 3, '--remote local forces this machine');
  t.equal((await onClient(['status'], { env: { MEDIAGATE_REMOTE: '' } })).code, 3, 'MEDIAGATE_REMOTE= (empty) forces this machine');
  t.match((await onClient(['remote', 'list'])).stdout, /^\*\s+home/m, 'list marks the default');
  t.same(json(await onClient(['remote', 'use', '--none', '--json'])), { default: null });
  t.equal((await onClient(['status'])).code, 3);
  t.equal((await onClient(['remote', 'use', 'nosuch'])).code, 2);
});

t.test('--remote NAME before the command, as the README writes it', async (t) => {
  mpd.mpc('-q', 'play', '1');
  const fast = await onClient(['--remote', 'home', 'pause', '--player', 'mpd'], { env: { MEDIAGATE_DEBUG_DISPATCH: '1' } });
  t.equal(fast.code, 0, fast.stderr);
  t.match(fast.stderr, /dispatch: fast play:pause/, 'the fast path runs it');
  t.equal(mpcState(mpd), 'paused');
  mpd.mpc('-q', 'play', '1');
  const viaOclif = await onClient(['--remote=home', 'pause', '--player', 'mpd'], { env: { MEDIAGATE_NO_FAST_PATH: '1' } });
  t.equal(viaOclif.code, 0, viaOclif.stderr);
  t.equal(mpcState(mpd), 'paused', 'and oclif too');
  const admin = await onClient(['--remote', 'home', 'token', 'list', '--json']);
  t.equal(admin.code, 0, admin.stderr);
  t.ok(Array.isArray(json(admin)), 'a non-hot command (oclif) with the flag first');
  const seek = await onClient(['-r', 'home', 'play', 'seek', '-1', '--player', 'mpd', '--json']);
  t.equal(seek.code, 0, seek.stderr);
  mpd.mpc('-q', 'play', '1');
  const between = await onClient(['play', '--remote', 'home', 'pause', '--player', 'mpd']);
  t.equal(between.code, 0, between.stderr);
  t.equal(mpcState(mpd), 'paused', 'between the command words too (play --remote home pause)');
  const noCommand = await onClient(['--remote', 'home']);
  t.not(noCommand.code, 0, 'the flag alone is not a command');
});

t.test('play browse and play file over --remote: the server\'s folders', async (t) => {
  writeFileSync(join(mpd.dir, 'music', 'notes.txt'), 'not music');
  await same(t, ['play', 'browse']);
  await same(t, ['play', 'browse', '--json']);
  const listing = await same(t, ['play', 'browse', 'music', '--json']);
  t.equal(listing.r.code, 0, listing.r.stderr);
  t.same(json(listing.r).entries.map((e) => [e.name, e.playable]), [['a.ogg', true], ['b.flac', true], ['c.mp3', true], ['notes.txt', false]]);
  await same(t, ['play', 'browse', 'music']);
  const page = await same(t, ['play', 'browse', 'music', '--limit', '2', '--offset', '1']);
  t.match(page.r.stderr, /next page: --offset 3/);
  await same(t, ['play', 'browse', 'music', '--limit', '2', '--offset', '1', '--json']);
  const nosuch = await same(t, ['play', 'browse', 'nosuch'], { stderr: false });
  t.equal(nosuch.r.code, 2, 'an unknown folder: exit 2 both ways');
  t.match(nosuch.r.stderr, /music/, 'naming the server\'s folders');
  const escape = await same(t, ['play', 'browse', 'music/../..'], { stderr: false });
  t.equal(escape.r.code, 2, 'an escape: exit 2 both ways');

  // The client has no media folder of its own: MEDIAGATE_REMOTE lists the server's, not the client's.
  const own = await onClient(['play', 'browse', '--json']);
  t.same(json(own), { folders: [] }, 'the client machine has none');
  const viaEnv = await onClient(['play', 'browse', '--json'], { env: { MEDIAGATE_REMOTE: 'home' } });
  t.equal(viaEnv.code, 0, viaEnv.stderr);
  t.same(json(viaEnv), { folders: [{ name: 'music', available: true }] });

  // play file: same JSON, and the server's MPD plays the file.
  mpd.mpc('-q', 'stop');
  const l = await local('play', 'file', 'music/b.flac', '--player', 'mpd', '--json');
  t.equal(l.code, 0, l.stderr);
  t.equal(mpcSong(mpd), 'SineB');
  mpd.mpc('-q', 'play', '1');
  const r = await remote('play', 'file', 'music/b.flac', '--player', 'mpd', '--json');
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, l.stdout, 'same JSON');
  t.equal(mpcSong(mpd), 'SineB', 'the server\'s MPD plays it');
  t.equal(mpcState(mpd), 'playing');
  mpd.mpc('-q', 'play', '1');
  const human = await remote('play', 'file', 'music/c.mp3', '--player', 'mpd');
  t.equal(human.code, 0, human.stderr);
  t.match(human.stderr, /^Playing c\.mp3 on mpd\.$/m);
  t.equal(mpd.mpc('current', '-f', '%file%'), 'c.mp3');
  const notMusic = await same(t, ['play', 'file', 'music/notes.txt', '--player', 'mpd'], { stderr: false });
  t.equal(notMusic.r.code, 2, 'not playable: exit 2 both ways');
  const missing = await same(t, ['play', 'file', 'music/none.ogg', '--player', 'mpd'], { stderr: false });
  t.equal(missing.r.code, 2, 'missing: exit 2 both ways');
  const folderOnly = await same(t, ['play', 'file', 'music']);
  t.equal(folderOnly.r.code, 2);
});

t.test('status --follow over the WebSocket', async (t) => {
  mpd.mpc('-q', 'play', '1'); mpd.mpc('-q', 'pause');
  await settled((s) => s.status === 'paused', 'paused');
  const child = spawn(process.execPath, [BIN, 'status', '--follow', '--json', '--remote', 'home'], { env: client.env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { try { child.kill('SIGKILL'); } catch {} });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
  const closed = new Promise((r) => child.on('close', (code) => r(code)));
  const lines = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const waitLines = async (pred, what) => {
    const end = Date.now() + 8000;
    while (Date.now() < end) { if (pred(lines())) return; await new Promise((r) => setTimeout(r, 25)); }
    throw new Error(`follow: ${what}; got ${out} ${err}`);
  };
  await waitLines((ls) => ls.length >= 1, 'a first line');
  t.equal(lines()[0].status, 'paused');
  const localStatus = json(await local('status', '--json'));
  t.same(Object.keys(lines()[0]), Object.keys(localStatus), 'each line is the status JSON of the CLI');
  await local('play');
  await waitLines((ls) => ls.some((l) => l.status === 'playing'), 'a line for the change');
  child.kill('SIGINT');
  t.equal(await closed, 0, 'SIGINT ends it cleanly');

  // --player: the server pushes that player's status (WS subscribe {player}), as a local --follow --player does.
  mpd.mpc('-q', 'play', '1'); mpd.mpc('-q', 'pause');
  await settled((s) => s.status === 'paused', 'paused');
  const fp = spawn(process.execPath, [BIN, 'status', '--follow', '--json', '--player', 'mpd', '--remote', 'home'], { env: client.env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { try { fp.kill('SIGKILL'); } catch {} });
  let outP = '';
  let errP = '';
  fp.stdout.setEncoding('utf8').on('data', (d) => { outP += d; });
  fp.stderr.setEncoding('utf8').on('data', (d) => { errP += d; });
  const closedP = new Promise((r) => fp.on('close', (code) => r(code)));
  const linesP = () => outP.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const waitP = async (pred, what) => {
    const end = Date.now() + 8000;
    while (Date.now() < end) { if (pred(linesP())) return; await new Promise((r) => setTimeout(r, 25)); }
    throw new Error(`follow --player: ${what}; got ${outP} ${errP}`);
  };
  await waitP((ls) => ls.length >= 1, 'a first line');
  t.match(linesP()[0], { player: 'mpd', status: 'paused' }, 'the first line is that player\'s status');
  t.same(Object.keys(linesP()[0]), Object.keys(localStatus), 'the status JSON of the CLI');
  await local('play', '--player', 'mpd');
  await waitP((ls) => ls.some((l) => l.status === 'playing' && l.player === 'mpd'), 'a line for the change');
  fp.kill('SIGINT');
  t.equal(await closedP, 0, 'SIGINT ends it cleanly');
  t.equal(errP, '', 'no message');
  const none = spawn(process.execPath, [BIN, 'status', '--follow', '--json', '--player', 'nosuch', '--remote', 'home'], { env: client.env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { try { none.kill('SIGKILL'); } catch {} });
  let outN = '';
  none.stdout.setEncoding('utf8').on('data', (d) => { outN += d; });
  const closedN = new Promise((r) => none.on('close', (code) => r(code)));
  const endN = Date.now() + 8000;
  while (!outN && Date.now() < endN) await new Promise((r) => setTimeout(r, 25));
  t.equal(outN, '{"player":null}\n', 'a name with no player: {"player":null}');
  none.kill('SIGINT');
  t.equal(await closedN, 0);

  // Revoking the token ends the stream with exit 4.
  const fol = json(await local('token', 'create', '--label', 'follower', '--scope', 'read', '--json'));
  t.equal((await onClient(['remote', 'add', 'follower', srv.url], { input: fol.token })).code, 0);
  const c2 = spawn(process.execPath, [BIN, 'status', '--follow', '--remote', 'follower'], { env: client.env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { try { c2.kill('SIGKILL'); } catch {} });
  let out2 = '';
  let err2 = '';
  c2.stdout.setEncoding('utf8').on('data', (d) => { out2 += d; });
  c2.stderr.setEncoding('utf8').on('data', (d) => { err2 += d; });
  const closed2 = new Promise((r) => c2.on('close', (code) => r(code)));
  const end = Date.now() + 8000;
  while (!out2 && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  t.ok(out2, 'the follower got a first line');
  await local('token', 'revoke', fol.id);
  t.equal(await closed2, 4, 'revocation closes the stream: exit 4');
  t.match(err2, /closed the connection/);
});

