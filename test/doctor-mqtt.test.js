// `mediagate doctor` checks the MQTT broker with a real MQTT CONNECT and the
// settings the bridge uses (mqtt.ca, user name, sealed password), against a
// real Mosquitto: the right password over TLS with the right CA is "ok"; a
// wrong password, a CA that did not sign the broker's certificate and a
// broker that is not there each "fail" with the fix named — and the password
// is never in doctor's output.
import t from 'tap';
import { runCli } from './helpers/cli.js';
import { startMosquitto } from './helpers/mosquitto.js';
import { startStack } from './helpers/mqtt-stack.js';
import { freePort } from './helpers/mpd.js';

t.setTimeout(180000);

async function doctorMqtt(env) {
  const r = await runCli(['doctor', '--json'], { env });
  const doc = JSON.parse(r.stdout);
  return { r, check: doc.checks.find((c) => c.id === 'mqtt') };
}

t.test('doctor: the broker accepts the configured credentials over TLS (allowed), and refuses a wrong password (denied)', async (t) => {
  const users = { box: 'doctor-right-pw-4711' };
  const mq = await startMosquitto(t, { users });
  const ok = await startStack(t, { broker: mq, url: mq.tlsUrl, noServe: true, config: { 'mqtt.username': 'box', 'mqtt.ca': mq.certs.ca }, password: users.box });
  let { r, check } = await doctorMqtt(ok.env);
  t.match(check, { status: 'ok', found: /accepts us as box \(MQTT 5, certificate verified\)/ }, 'the mqtt check');
  t.notMatch(r.stdout + r.stderr, new RegExp(users.box), 'the password is not shown');

  const wrongPw = 'doctor-wrong-pw-0815';
  const bad = await startStack(t, { broker: mq, url: mq.tlsUrl, node: 'box2', noServe: true, config: { 'mqtt.username': 'box', 'mqtt.ca': mq.certs.ca }, password: wrongPw });
  ({ r, check } = await doctorMqtt(bad.env));
  t.match(check, { status: 'fail', why: /refused the connection: (bad user name or password|not authorised)/, fix: /mqtt\.username[\s\S]*set-secret mqtt\.password/ }, 'the mqtt check');
  t.notMatch(r.stdout + r.stderr, new RegExp(`${wrongPw}|${users.box}`), 'neither password is shown');
});

t.test('doctor: a CA that did not sign the broker certificate fails closed, naming mqtt.ca; a broker that is not there is named too', async (t) => {
  const users = { box: 'doctor-ca-pw-1234' };
  const mq = await startMosquitto(t, { users });
  const wrongCa = await startStack(t, { broker: mq, url: mq.tlsUrl, noServe: true, config: { 'mqtt.username': 'box', 'mqtt.ca': mq.certs.otherCa }, password: users.box });
  let { check } = await doctorMqtt(wrongCa.env);
  t.match(check, { status: 'fail', why: /not retried without verification/, fix: /mqtt\.ca/ });

  const port = await freePort();
  const gone = await startStack(t, { broker: mq, url: `mqtt://127.0.0.1:${port}`, node: 'box3', noServe: true });
  ({ check } = await doctorMqtt(gone.env));
  t.match(check, { status: 'fail', why: /connection refused/, fix: /broker runs/ });

  const unreadable = await startStack(t, { broker: mq, url: mq.tlsUrl, node: 'box4', noServe: true, config: { 'mqtt.ca': '/nonexistent/ca.pem' } });
  ({ check } = await doctorMqtt(unreadable.env));
  t.match(check, { status: 'fail', why: /cannot read mqtt\.ca/ });
});
