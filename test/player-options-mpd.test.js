// shuffle, repeat, open, queue and metadata on a REAL MPD (checked with mpc):
// from the CLI, through POST /api/player/shuffle|repeat|open of a real
// `mediagate serve` (scopes: read refused, open admin by default, the scheme
// allow-list), over --remote, and as WebSocket commands.
import t from 'tap';
import { startMpd } from './helpers/mpd.js';
import { runCli } from './helpers/cli.js';
import { api, cliToken, serveEnv, startServe } from './helpers/serve.js';
import { startWsServer, connect } from './helpers/ws.js';

const flags = (mpd) => {
  const line = mpd.mpc('status').split('\n').find((l) => l.startsWith('volume:')) ?? '';
  const on = (k) => new RegExp(`${k}: on`).test(line);
  return { random: on('random'), repeat: on('repeat'), single: on('single') };
};
const current = (mpd) => mpd.mpc('current', '-f', '%file%');

t.test('CLI: each control changes MPD (mpc), each refusal leaves it alone', async (t) => {
  const mpd = await startMpd(t);
  const { env } = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) });
  const mg = (...a) => runCli(a, { env });
  const json = async (...a) => {
    const r = await mg(...a, '--json');
    if (r.code !== 0) throw new Error(`${a.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };

  let r = await mg('play', 'shuffle', 'on');
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), 'on');
  t.equal(flags(mpd).random, true, 'mpc: random on');
  t.same(await json('play', 'shuffle', 'toggle'), { ok: true, player: 'mpd', action: 'shuffle', shuffle: false });
  t.equal(flags(mpd).random, false, 'mpc: random off');
  t.same(await json('play', 'shuffle'), { player: 'mpd', shuffle: false }, 'bare: the current value');
  r = await mg('play', 'shuffle', 'maybe');
  t.equal(r.code, 2, 'a bad value is a usage error');

  r = await mg('play', 'repeat', 'track');
  t.equal(r.code, 0, r.stderr);
  t.same(flags(mpd), { random: false, repeat: true, single: true }, 'repeat track → mpc repeat on, single on');
  await mg('play', 'repeat', 'playlist');
  t.same(flags(mpd), { random: false, repeat: true, single: false }, 'repeat playlist → repeat on, single off');
  t.equal((await json('play', 'repeat', 'toggle')).repeat, 'track', 'toggle steps as a repeat button: playlist → track');
  t.same(flags(mpd), { random: false, repeat: true, single: true });
  await mg('play', 'repeat', 'off');
  t.same(flags(mpd), { random: false, repeat: false, single: false }, 'repeat off → both off');

  const q = await json('play', 'queue');
  t.equal(q.player, 'mpd');
  t.same(q.queue.map((e) => e.uri), mpd.mpc('playlist', '-f', '%file%').split('\n'), 'queue: what mpc playlist lists');

  r = await mg('play', 'open', 'b.flac');
  t.equal(r.code, 0, r.stderr);
  t.equal(current(mpd), 'b.flac', 'open a path MPD knows → mpc current');
  t.match(mpd.mpc('status'), /\[playing\]/);
  const meta = await json('play', 'metadata');
  t.equal(meta.metadata['xesam:title'], 'SineB');
  t.equal((await mg('play', 'metadata', 'xesam:title')).stdout.trim(), 'SineB', 'one key');
  r = await mg('play', 'metadata', 'xesam:nope');
  t.not(r.code, 0, 'a key the track has not: not zero');

  const before = mpd.mpc('playlist').split('\n').length;
  r = await mg('play', 'open', 'spotify:track:4uLU6hMCjMI75M1A2tKUQC');
  t.equal(r.code, 3, 'unsupported scheme: exit 3');
  t.match(r.stderr, /does not open 'spotify:' URIs; it opens: .*\bhttps?\b/, 'naming the schemes MPD handles');
  t.equal(current(mpd), 'b.flac', 'MPD did not change track');
  t.equal(mpd.mpc('playlist').split('\n').length, before, 'nothing added to the queue');

  r = await mg('play', 'shuffle', 'on', '-i', 'mpd');
  t.equal(r.code, 3, 'an ignored player is not reached');
  t.equal(flags(mpd).random, false, 'random still off');
  await mg('config', 'set', 'players.ignore', 'mpd');
  r = await mg('play', 'repeat', 'track', '--player', 'mpd');
  t.equal(r.code, 3, 'config players.ignore: --player mpd is refused');
  t.match(r.stderr, /is ignored/);
  t.equal(flags(mpd).repeat, false);
});

t.test('API and --remote: scopes, the open policy, MPD changed (mpc)', async (t) => {
  const mpd = await startMpd(t);
  const { env } = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) }, { 'server.rateLimit.rps': 0 });
  const read = (await cliToken(env, 'r', 'read')).token;
  const control = (await cliToken(env, 'c', 'control')).token;
  const admin = (await cliToken(env, 'a', 'admin')).token;
  const srv = await startServe(t, env);

  let r = await api(srv, 'POST', '/api/player/shuffle', { token: read, json: { shuffle: true } });
  t.equal(r.status, 403, 'read scope: shuffle refused');
  t.equal(r.json.error.code, 'auth.insufficient_scope');
  t.equal(flags(mpd).random, false, 'not changed');
  r = await api(srv, 'POST', '/api/player/shuffle', { token: control, json: { shuffle: true } });
  t.equal(r.status, 200, r.text);
  t.same(r.json, { ok: true, player: 'mpd', action: 'shuffle', shuffle: true });
  t.equal(flags(mpd).random, true, 'mpc: random on');
  r = await api(srv, 'POST', '/api/player/shuffle', { token: control, json: { shuffle: 'yes' } });
  t.equal(r.status, 422, 'bad value: 422');
  t.equal(r.json.error.code, 'usage.invalid_field');

  r = await api(srv, 'POST', '/api/player/repeat', { token: read, json: { repeat: 'track' } });
  t.equal(r.status, 403, 'read scope: repeat refused');
  r = await api(srv, 'POST', '/api/player/repeat', { token: control, json: { repeat: 'track' } });
  t.equal(r.status, 200, r.text);
  t.equal(r.json.repeat, 'track');
  t.match(flags(mpd), { repeat: true, single: true }, 'mpc: repeat + single');

  const url = `http://127.0.0.1:1/nothing.ogg`;
  r = await api(srv, 'POST', '/api/player/open', { token: control, json: { uri: url } });
  t.equal(r.status, 403, 'open: control is not enough by default (admin)');
  r = await api(srv, 'POST', '/api/player/open', { token: admin, json: { uri: 'b.flac' } });
  t.equal(r.status, 409, 'a plain path is never taken over the API');
  t.equal(r.json.error.code, 'player.unsupported_scheme');
  r = await api(srv, 'POST', '/api/player/open', { token: admin, json: { uri: 'ftp://127.0.0.1/x.ogg' } });
  t.equal(r.status >= 400 && r.status < 500, true, `a scheme outside server.openSchemes: ${r.status}`);
  t.match(r.json.error.message, /https?/, 'naming the schemes taken');
  t.not(current(mpd), 'x.ogg');

  r = await api(srv, 'GET', '/api/queue', { token: read });
  t.equal(r.status, 200, r.text);
  t.equal(r.json.queue.length, 3, 'read scope may read the queue');
  r = await api(srv, 'GET', '/api/metadata', { token: read });
  t.equal(r.status, 200, r.text);

  // --remote: the same commands from a client machine (its own config) to this server.
  const client = await serveEnv(t, {});
  const add = await runCli(['remote', 'add', 'home', srv.url], { env: client.env, input: `${control}\n` });
  t.equal(add.code, 0, add.stderr);
  r = await runCli(['play', 'shuffle', 'off', '--remote', 'home', '--json'], { env: client.env });
  t.equal(r.code, 0, r.stderr);
  t.equal(JSON.parse(r.stdout).shuffle, false);
  t.equal(flags(mpd).random, false, '--remote shuffle off → mpc random off');
  r = await runCli(['play', 'repeat', 'off', '--remote', 'home'], { env: client.env });
  t.equal(r.code, 0, r.stderr);
  t.same(flags(mpd), { random: false, repeat: false, single: false }, '--remote repeat off');
  r = await runCli(['play', 'queue', '--remote', 'home', '--json'], { env: client.env });
  t.equal(JSON.parse(r.stdout).queue.length, 3, '--remote queue');
  r = await runCli(['play', 'open', 'https://127.0.0.1:1/x.ogg', '--remote', 'home'], { env: client.env });
  t.equal(r.code, 4, '--remote open with a control token: refused (admin by default)');
});

t.test('WebSocket: shuffle, repeat, open commands', async (t) => {
  const mpd = await startMpd(t);
  const srv = await startWsServer(t, { mpd, maxFailures: 1000 });
  const { tokens } = srv;
  const c = await connect(srv.url, { token: tokens.control.token });
  c.send({ type: 'command', id: 1, action: 'shuffle', args: { shuffle: true } });
  let r = await c.next((m) => m.id === 1);
  t.same({ type: r.type, ok: r.ok, data: r.data }, { type: 'result', ok: true, data: { player: 'mpd', action: 'shuffle', shuffle: true } }, JSON.stringify(r));
  t.equal(flags(mpd).random, true, 'mpc: random on');
  c.send({ type: 'command', id: 2, action: 'repeat', args: { repeat: 'playlist' } });
  r = await c.next((m) => m.id === 2);
  t.equal(r.type, 'result', JSON.stringify(r));
  t.match(flags(mpd), { repeat: true, single: false }, 'mpc: repeat on');
  c.send({ type: 'command', id: 3, action: 'open', args: { uri: 'https://127.0.0.1:1/x.ogg' } });
  r = await c.next((m) => m.id === 3);
  t.same({ type: r.type, code: r.code }, { type: 'error', code: 'auth.insufficient_scope' }, 'open needs admin by default');
  c.send({ type: 'command', id: 4, action: 'shuffle', args: { shuffle: 'sometimes' } });
  r = await c.next((m) => m.id === 4);
  t.equal(r.type, 'error', 'a bad shuffle value');
  c.close();

  const ro = await connect(srv.url, { token: tokens.read.token });
  ro.send({ type: 'command', id: 5, action: 'shuffle', args: { shuffle: false } });
  r = await ro.next((m) => m.id === 5);
  t.same({ type: r.type, code: r.code }, { type: 'error', code: 'auth.insufficient_scope' }, 'read scope: refused');
  t.equal(flags(mpd).random, true, 'still on');
  ro.close();
});
