// Fleet control through a real Mosquitto with a per-machine ACL: `mediagate
// nodes`, `--node NAME|all` with the same output and exit codes as locally
// (3 unknown node or player, 6 broker unreachable, 4 broker refuses), and a
// machine's user that the ACL confines cannot drive another node (its
// allowed twin: the fleet user can).
import t from 'tap';
import { cliEnv, runCli } from './helpers/cli.js';
import { freePort } from './helpers/mpd.js';
import { perMachineAcl, startMosquitto } from './helpers/mosquitto.js';
import { bridgeConnected, startStack } from './helpers/mqtt-stack.js';
import { waitFor } from './helpers/proc.js';

t.setTimeout(240000);

/** A machine without players that talks to the broker as `user`. */
async function fleetEnv(t, mq, user, password, extra = {}) {
  const { env } = cliEnv(t, { MPD_PORT: '1' });
  for (const [k, v] of Object.entries({ 'mqtt.url': mq.url, 'mqtt.username': user, ...extra })) {
    const r = await runCli(['config', 'set', k, v], { env });
    if (r.code !== 0) throw new Error(r.stderr);
  }
  if (password !== undefined) {
    const r = await runCli(['config', 'set-secret', 'mqtt.password'], { env, input: password });
    if (r.code !== 0) throw new Error(r.stderr);
  }
  return env;
}

t.test('nodes and --node against a broker with a per-machine ACL', async (t) => {
  const users = { box: 'box-secret-1', kitchen: 'kitchen-secret-2', fleet: 'fleet-secret-3' };
  const mq = await startMosquitto(t, { users, acl: perMachineAcl() });
  const s = await startStack(t, { broker: mq, mpd: true, node: 'box', config: { 'mqtt.username': 'box' }, password: users.box });
  await bridgeConnected(s.srv);
  s.mpd.mpc('-q', 'play');
  const fleet = await fleetEnv(t, mq, 'fleet', users.fleet);
  const cli = (args) => runCli(args, { env: fleet });

  // nodes --json: box, online, with its now-playing.
  let list;
  await waitFor(async () => {
    const r = await cli(['nodes', '--json']);
    list = JSON.parse(r.stdout);
    return list.find((n) => n.node === 'box')?.nowPlaying?.status === 'playing';
  }, { timeoutMs: 15000, what: 'box playing in nodes --json' });
  t.match(list.find((n) => n.node === 'box'), { node: 'box', online: true, nowPlaying: { player: 'mpd', title: 'SineA' }, players: [{ id: 'mpd' }] });
  const text = await cli(['nodes']);
  t.equal(text.code, 0);
  t.match(text.stdout, /^box\s+online\s+mpd\s+playing\s+.*Probe - SineA/m, 'nodes prints one line per node');

  // --node box: the same output as the command run on box itself.
  const local = await runCli(['status', '--json'], { env: s.env });
  const remote = await cli(['--node', 'box', 'status', '--json']);
  t.equal(remote.code, 0, remote.stderr);
  const [a, b] = [JSON.parse(local.stdout), JSON.parse(remote.stdout)];
  t.same(Object.keys(b), Object.keys(a), 'status --json has the same fields through the broker');
  t.match(b, { player: a.player, status: a.status, title: a.title, artist: a.artist, duration: a.duration });
  const paused = await cli(['pause', '--node', 'box', '--json']);
  t.equal(paused.code, 0, paused.stderr);
  t.same(JSON.parse(paused.stdout), { ok: true, player: 'mpd', action: 'pause' }, 'pause --json prints what a local pause prints');
  await waitFor(() => /\[paused\]/.test(s.mpd.mpc('status')), { timeoutMs: 10000, what: 'mpd paused through the broker' });
  const seek = await cli(['play', 'seek', '7', '--node', 'box', '--json']);
  t.equal(seek.code, 0, seek.stderr);
  t.match(JSON.parse(seek.stdout), { ok: true, player: 'mpd', action: 'seek' });
  const vol = await cli(['volume', '--node', 'box', '--json']);
  t.equal(vol.code, 0, vol.stderr);
  t.match(JSON.parse(vol.stdout), { level: Number, muted: Boolean, target: String, backend: String });
  const prev = await cli(['--node', 'all', 'play', '--json']);
  t.equal(prev.code, 0, prev.stderr);
  await waitFor(() => /\[playing\]/.test(s.mpd.mpc('status')), { timeoutMs: 10000, what: 'mpd playing after --node all play' });
  t.pass('--node all play reaches every online node');

  // Exit codes: 3 unknown node or player, 2 bad input (as locally), 6 broker unreachable, 4 refused.
  const unknownNode = await cli(['--node', 'attic', 'pause']);
  t.equal(unknownNode.code, 3, 'unknown node: exit 3');
  t.match(unknownNode.stderr, /no mediagate node named 'attic'.*\n.*nodes: box/);
  const unknownPlayer = await cli(['--node', 'box', 'pause', '--player', 'nosuch']);
  t.equal(unknownPlayer.code, 3, 'unknown player on the node: exit 3');
  const badVolume = await cli(['--node', 'box', 'volume', '150']);
  t.equal(badVolume.code, 2, 'volume 150 is a usage error before anything is sent, as locally');

  const port = await freePort();
  const down = await runCli(['--node', 'box', 'pause'], { env: await fleetEnv(t, { url: `mqtt://127.0.0.1:${port}` }, 'fleet', users.fleet) });
  t.equal(down.code, 6, 'broker unreachable: exit 6');
  t.match(down.stderr, /cannot reach the MQTT broker mqtt:\/\/127\.0\.0\.1:\d+: connection refused/);
  const wrongPw = await runCli(['nodes'], { env: await fleetEnv(t, mq, 'fleet', 'not-the-password') });
  t.equal(wrongPw.code, 4, 'wrong password: exit 4');
  t.match(wrongPw.stderr, /refused the connection: (bad user name or password|not authorised)/);
  t.notMatch(wrongPw.stderr + wrongPw.stdout, /not-the-password|fleet-secret/, 'no password in the output');

  // The ACL confines kitchen's user to kitchen's topics: it cannot drive box (its twin above: fleet can).
  s.mpd.mpc('-q', 'play');
  const confined = await runCli(['--node', 'box', 'pause'], { env: await fleetEnv(t, mq, 'kitchen', users.kitchen) });
  t.equal(confined.code, 4, 'a confined user: exit 4');
  t.match(confined.stderr, /does not allow this user/);
  await new Promise((r) => setTimeout(r, 500));
  t.match(s.mpd.mpc('status'), /\[playing\]/, 'box is still playing');
  t.equal((await s.srv.stop()).code, 0);
});
