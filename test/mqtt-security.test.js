// The broker as the trust boundary, against a real Mosquitto: TLS fails
// closed (a wrong CA, a self-signed broker certificate: an error that names
// the fix, never a connection without verification) with its allowed twin
// (the right CA connects); a wrong broker password is a clear error, serve
// keeps serving and retrying, and the password is in no log line, error,
// audit event, file in clear or process argument (its twin: the right one
// connects).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { api, filesUnder } from './helpers/serve.js';
import { runCli } from './helpers/cli.js';
import { startMosquitto, watch } from './helpers/mosquitto.js';
import { bridgeConnected, startStack } from './helpers/mqtt-stack.js';
import { waitFor } from './helpers/proc.js';

t.setTimeout(240000);

const cmdline = (pid) => readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
const environ = (pid) => readFileSync(`/proc/${pid}/environ`, 'latin1');

async function lastError(srv, code) {
  let st;
  await waitFor(async () => {
    st = (await api(srv, 'GET', '/api/mqtt', { token: srv.adminToken })).json;
    return st?.lastError?.code === code;
  }, { timeoutMs: 15000, what: `bridge lastError ${code}` });
  return st;
}

t.test('TLS: the right CA connects; a wrong CA and a self-signed broker fail closed with the fix named', async (t) => {
  const users = { box: 'tls-box-pw-123' };
  const mq = await startMosquitto(t, { users });
  // Allowed: mqtts:// with mqtt.ca = the CA that signed the broker's certificate.
  const ok = await startStack(t, { broker: mq, url: mq.tlsUrl, mpd: false, config: { 'mqtt.username': 'box', 'mqtt.ca': mq.certs.ca }, password: users.box });
  await bridgeConnected(ok.srv);
  const w = await watch(t, mq, ['mediagate/box/availability'], { username: 'box', password: users.box });
  await w.next((m) => m.text === 'online', 10000, 'online over TLS');
  t.pass('mqtts:// with the right mqtt.ca connects');
  t.equal((await ok.srv.stop()).code, 0);

  // Denied: a CA that did not sign it. serve keeps serving; the log names mqtt.ca; it never connects.
  const bad = await startStack(t, { broker: mq, url: mq.tlsUrl, node: 'box2', config: { 'mqtt.username': 'box', 'mqtt.ca': mq.certs.otherCa }, password: users.box });
  const st = await lastError(bad.srv, 'mqtt.tls');
  t.equal(st.connected, false, 'not connected with a CA that did not sign the broker\'s certificate');
  t.match(bad.srv.err(), /mqtt: cannot connect to the MQTT broker mqtts:\/\/127\.0\.0\.1:\d+: .*not retried without verification.*mediagate config set mqtt\.ca/, 'the log names the fix');
  t.equal((await api(bad.srv, 'GET', '/api/health')).status, 200, 'serve keeps serving');
  t.notMatch(bad.srv.err() + bad.srv.out(), /mqtt: connected/, 'never connected');
  // The same for the fleet commands: exit 6, with the fix.
  const cli = await runCli(['nodes'], { env: bad.env });
  t.equal(cli.code, 6, 'nodes with a wrong CA: exit 6');
  t.match(cli.stderr, /not retried without verification[\s\S]*hint: give the CA certificate/);
  t.equal((await bad.srv.stop()).code, 0);

  // Denied: no mqtt.ca at all against a private CA (the system store does not know it).
  const none = await runCli(['nodes'], { env: (await startStack(t, { broker: mq, url: mq.tlsUrl, noServe: true, node: 'box3', config: { 'mqtt.username': 'box' }, password: users.box })).env });
  t.equal(none.code, 6, 'no mqtt.ca against a private CA: exit 6');
  t.match(none.stderr, /not signed by a trusted CA|self-signed|not trusted/);
});

t.test('TLS: a self-signed broker certificate is refused', async (t) => {
  const mq = await startMosquitto(t, { anonymous: true, selfSigned: true });
  const s = await startStack(t, { broker: mq, url: mq.tlsUrl, noServe: true, config: { 'mqtt.ca': mq.certs.ca } });
  const r = await runCli(['nodes', '--json'], { env: s.env });
  t.equal(r.code, 6);
  t.match(r.stderr, /"code":"mqtt\.tls"/, 'a TLS error (mqtt.tls), not a silent retry');
  t.match(r.stderr, /self-signed/);
});

t.test('a wrong broker password: a clear error, serve keeps retrying; the password appears nowhere', async (t) => {
  const users = { box: 'the-right-password-xyz' };
  const mq = await startMosquitto(t, { users });
  const wrong = 'a-wrong-password-abc';
  const s = await startStack(t, { broker: mq, config: { 'mqtt.username': 'box' }, password: wrong });
  const st = await lastError(s.srv, 'mqtt.refused');
  t.equal(st.connected, false);
  t.match(st.lastError.message, /refused the connection: (bad user name or password|not authorised)/);
  t.match(s.srv.err(), /mqtt: the MQTT broker .* refused the connection.*config set-secret mqtt\.password/, 'the log says what to fix');
  await waitFor(async () => (await api(s.srv, 'GET', '/api/mqtt', { token: s.srv.adminToken })).json.failedAttempts >= 2, { timeoutMs: 20000, what: 'a retry' });
  t.pass('serve retries with back-off while refused');
  t.equal((await api(s.srv, 'GET', '/api/health')).status, 200, 'and keeps serving');
  t.equal((s.srv.err().match(/refused the connection/g) ?? []).length, 1, 'the same failure is logged once, not per attempt');
  // Nowhere: serve's argv and environment, its output, the API's answer, the audit log, the config file in clear.
  t.notMatch(cmdline(s.srv.pid) + environ(s.srv.pid), new RegExp(wrong), 'not in serve\'s argv or environment');
  t.notMatch(s.srv.err() + s.srv.out(), new RegExp(wrong), 'not in serve\'s output');
  t.notMatch(JSON.stringify(st), new RegExp(wrong), 'not in GET /api/mqtt');
  for (const f of [...filesUnder(s.env.MEDIAGATE_STATE_DIR), ...filesUnder(s.env.MEDIAGATE_CONFIG_DIR)]) {
    t.notMatch(f.text, new RegExp(wrong), `not in ${f.path.split('/').slice(-2).join('/')}`);
  }
  const got = await runCli(['config', 'get', 'mqtt.password'], { env: s.env });
  t.match(got.stdout, /^••••/, 'config get shows it masked');
  const plain = await runCli(['config', 'set', 'mqtt.password', 'x'], { env: s.env });
  t.equal(plain.code, 5, 'config set refuses it: a secret goes through set-secret');
  t.equal((await s.srv.stop()).code, 0);

  // Allowed twin: the right password connects.
  const okEnv = await startStack(t, { broker: mq, node: 'box', config: { 'mqtt.username': 'box' }, password: users.box });
  await bridgeConnected(okEnv.srv);
  t.pass('the right password connects');
  t.equal((await okEnv.srv.stop()).code, 0);
});

t.test('mqtt.* config keys are checked', async (t) => {
  const s = await startStack(t, { noServe: true });
  const set = (k, v) => runCli(['config', 'set', k, v], { env: s.env });
  t.equal((await set('mqtt.url', 'mqtt://user:pw@127.0.0.1:1883')).code, 5, 'credentials in the URL are refused');
  t.equal((await set('mqtt.url', 'http://127.0.0.1')).code, 5, 'only mqtt:// and mqtts://');
  t.equal((await set('mqtt.url', 'mqtts://broker.example:8883')).code, 0);
  t.equal((await set('mqtt.node', 'Kitchen Box')).code, 5, 'a node is a topic level: a-z 0-9 _ -');
  t.equal((await set('mqtt.node', 'kitchen_2')).code, 0);
  t.equal((await set('mqtt.baseTopic', 'home/#')).code, 5, 'no wildcards in the base topic');
  t.equal((await set('mqtt.commands', 'admin')).code, 5, 'never admin');
  t.equal((await set('mqtt.protocol', '3')).code, 5);
  const all = await runCli(['config', 'list', '--all', '--json'], { env: s.env });
  const keys = JSON.parse(all.stdout).map((k) => k.key);
  for (const k of ['mqtt.url', 'mqtt.username', 'mqtt.password', 'mqtt.ca', 'mqtt.cert', 'mqtt.key', 'mqtt.node', 'mqtt.baseTopic', 'mqtt.discovery', 'mqtt.discoveryPrefix', 'mqtt.commands', 'mqtt.protocol', 'mqtt.playerDevices', 'mqtt.artworkMaxBytes']) {
    t.ok(keys.includes(k), `config list --all has ${k}`);
  }
});
