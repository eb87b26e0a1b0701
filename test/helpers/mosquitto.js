// A real Mosquitto 2 for one test: a free port on 127.0.0.1, a temp dir, a
// password file and an ACL, and a second listener with TLS (a CA and a
// server certificate for 127.0.0.1 made here with openssl, plus a second CA
// that signed nothing, for "wrong CA" cases). Stopped by PID when the test
// ends; kill9() and restart() (same ports, same files) for fault tests.
// Also a watching client (MQTT.js) and mosquitto_pub / mosquitto_sub runners.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort } from './mpd.js';
import { sh, startDaemon, tempDir, waitFor } from './proc.js';

/** A CA, a server certificate for 127.0.0.1/localhost signed by it, and an unrelated CA. */
export function makeCerts(dir) {
  const f = (n) => join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  sh('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=mediagate test CA']);
  sh('openssl', ['req', '-x509', ...ec, '-keyout', f('other-ca.key'), '-out', f('other-ca.pem'), '-days', '2', '-subj', '/CN=some other CA']);
  sh('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
  sh('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('ext.cnf')]);
  // A self-signed server certificate (no CA at all) for the "self-signed" case.
  sh('openssl', ['req', '-x509', ...ec, '-keyout', f('self.key'), '-out', f('self.pem'), '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  return { ca: f('ca.pem'), otherCa: f('other-ca.pem'), cert: f('server.pem'), key: f('server.key'), selfCert: f('self.pem'), selfKey: f('self.key') };
}

/**
 * Start Mosquitto. `users`: {name: password} (password file; anonymous
 * refused unless `anonymous`); `acl`: the ACL file's text (default: every
 * user may read and write everything); `selfSigned`: the TLS listener uses
 * a self-signed certificate instead of the CA-signed one; `noDelay`: the broker
 * sends without Nagle's delay (set_tcp_nodelay). Returns
 * {host, port, tlsPort, url, tlsUrl, certs, dir, pid, log(), kill9(), restart(), stop()}.
 */
export async function startMosquitto(t, { users = {}, acl, anonymous = false, selfSigned = false, noDelay = false } = {}) {
  const dir = tempDir(t, 'mg-mq-');
  const certs = makeCerts(dir);
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, '');
  for (const [u, p] of Object.entries(users)) sh('mosquitto_passwd', ['-b', passwd, u, p]);
  const aclFile = join(dir, 'acl');
  writeFileSync(aclFile, acl ?? 'pattern readwrite #\ntopic readwrite #\n');
  const logFile = join(dir, 'mosquitto.log');
  const host = '127.0.0.1';
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(host);
    const tlsPort = await freePort(host);
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, [
      'user root', // the test runs as root: keep it (mosquitto would switch to its own user and lose the temp dir)
      'persistence false',
      `log_dest file ${logFile}`,
      'log_type error', 'log_type warning', 'log_type notice', 'log_type information',
      'per_listener_settings false',
      ...(noDelay ? ['set_tcp_nodelay true'] : []),
      `allow_anonymous ${anonymous ? 'true' : 'false'}`,
      `password_file ${passwd}`,
      `acl_file ${aclFile}`,
      `listener ${port} ${host}`,
      `listener ${tlsPort} ${host}`,
      `cafile ${certs.ca}`,
      `certfile ${selfSigned ? certs.selfCert : certs.cert}`,
      `keyfile ${selfSigned ? certs.selfKey : certs.key}`,
      '',
    ].join('\n'));
    let daemon = startDaemon('mosquitto', ['-c', conf], { logFile: join(dir, 'stdout.log') });
    t.teardown(() => daemon.stop());
    const ready = () => waitFor(() => {
      if (daemon.child.exitCode !== null) throw new Error('mosquitto exited');
      const u = Object.keys(users)[0];
      sh('mosquitto_pub', ['-h', host, '-p', String(port), '-t', 'mediagate-test/ready', '-m', 'x', ...(u ? ['-u', u, '-P', users[u]] : [])], { timeout: 3000 });
      return true;
    }, { timeoutMs: 10000, stepMs: 50, what: 'mosquitto to accept a publish' });
    try {
      await ready();
    } catch (e) {
      await daemon.stop();
      if (attempt < 3) continue;
      throw new Error(`mosquitto did not start: ${e.message}\n${existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''}`);
    }
    const handle = {
      host, port, tlsPort, dir, certs,
      url: `mqtt://${host}:${port}`,
      tlsUrl: `mqtts://${host}:${tlsPort}`,
      get pid() { return daemon.pid; },
      log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
      /** SIGKILL: no clean shutdown, no will of its own. */
      async kill9() { daemon.child.kill('SIGKILL'); await daemon.exited; },
      /** Start again on the same ports with the same files (retained messages are gone: persistence is off). */
      async restart() {
        daemon = startDaemon('mosquitto', ['-c', conf], { logFile: join(dir, 'stdout.log') });
        const d = daemon;
        t.teardown(() => d.stop());
        await ready();
      },
      stop: () => daemon.stop(),
    };
    return handle;
  }
}

/**
 * A watching client (MQTT.js): subscribes to `filters` and keeps every
 * message {topic, text, payload, retain, at}. `next(pred, ms, what)`
 * resolves the first message from `from` on that matches.
 */
export async function watch(t, broker, filters, { username, password, protocolVersion = 5, url } = {}) {
  const client = await mqtt.connectAsync(url ?? broker.url, { username, password, protocolVersion, reconnectPeriod: 500, clientId: `watch-${Math.random().toString(36).slice(2, 10)}` });
  t.teardown(() => client.end(true));
  const messages = [];
  const waiters = new Set();
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload, text: payload.toString('utf8'), retain: packet.retain, at: performance.now() });
    for (const w of [...waiters]) w();
  });
  await client.subscribeAsync(filters, { qos: 1 });
  const next = (pred, ms = 10000, what = 'a matching message', from = 0) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no ${what} within ${ms} ms; got ${JSON.stringify(messages.slice(-8).map((m) => [m.topic, m.text.slice(0, 200)]))}`)); }, ms);
    function check() {
      for (let i = from; i < messages.length; i++) {
        if (!pred(messages[i])) continue;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(messages[i]);
        return;
      }
    }
    waiters.add(check);
    check();
  });
  /** The latest message on `topic` (or undefined). */
  const last = (topic) => [...messages].reverse().find((m) => m.topic === topic);
  return { client, messages, next, last, get count() { return messages.length; } };
}

/** Run mosquitto_pub (args after host/port); resolves {code, stdout, stderr}. */
export function mosquittoPub(broker, args, { username, password } = {}) {
  return new Promise((resolve) => {
    execFile('mosquitto_pub', ['-h', broker.host, '-p', String(broker.port), ...(username ? ['-u', username, '-P', password] : []), ...args],
      { timeout: 10000 }, (e, stdout, stderr) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }));
  });
}

/** Run mosquitto_sub (args after host/port); resolves {code, stdout, stderr}. */
export function mosquittoSub(broker, args, { username, password } = {}) {
  return new Promise((resolve) => {
    execFile('mosquitto_sub', ['-h', broker.host, '-p', String(broker.port), ...(username ? ['-u', username, '-P', password] : []), ...args],
      { timeout: 20000, maxBuffer: 64 * 1024 * 1024 }, (e, stdout, stderr) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr }));
  });
}

/** An ACL that confines each machine's user to its own topics plus discovery, with a fleet user that may drive every node. */
export function perMachineAcl({ base = 'mediagate', prefix = 'homeassistant', fleet = 'fleet', ha = 'hass' } = {}) {
  return [
    '# every machine: writes only its own topics (its user name is its node name), reads',
    '# every node\'s availability and state (so `mediagate nodes` works anywhere),',
    '# Home Assistant\'s status, and publishes discovery',
    `pattern readwrite ${base}/%u/#`,
    `pattern read ${base}/+/availability`,
    `pattern read ${base}/+/state`,
    `pattern read ${prefix}/status`,
    `pattern readwrite ${prefix}/device/#`,
    '',
    `user ${fleet}`,
    `topic readwrite ${base}/#`,
    '',
    `user ${ha}`,
    `topic readwrite ${base}/#`,
    `topic readwrite ${prefix}/#`,
    '',
  ].join('\n');
}
