// Leaks: one full life of a server and a paired client — sealed MPD
// password, the secret key in MEDIAGATE_SECRET_KEY, tokens minted by the CLI
// and the API, rotated and revoked, invite codes created, rotated, redeemed
// by the CLI (code on stdin, token saved sealed in a remote profile) and by
// the API, pairing tokens exchanged, tokens sent where they must not go (URL,
// path, a pairing token as bearer), WebSocket token subprotocols, callbacks
// running scripts on player events, PulseAudio children. Every secret is
// collected and searched for in every file under the config, state and
// home dirs (server and client), in server and CLI output (except the one
// place a secret is shown: the output of the command that made it), and in
// the command lines and environments of every child process, sampled every
// 50 ms while they run. Holds when none is found.
import t from 'tap';
import WebSocket from 'ws';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMpd } from '../helpers/mpd.js';
import { startPulse } from '../helpers/pulse.js';
import { cliEnv, runCli } from '../helpers/cli.js';
import { api, startServe } from '../helpers/serve.js';
import { runAndKill } from './lib/killer.js';
import { SecretBook, watchChildren } from './lib/leaks.js';
import { cmdline } from './lib/procfs.js';
import { sleep } from './lib/holds.js';
import { Report } from './lib/report.js';

t.setTimeout(5 * 60_000);
const report = new Report(t, 'leaks');

t.test('every secret of a server and a paired client, searched for everywhere', async (t) => {
  const book = new SecretBook();
  const outputs = []; // {what, text, allow: [secrets shown there legitimately]}
  const roots = new Map(); // pid → what, for the child watcher
  const stopWatch = watchChildren(book, () => [...roots].map(([pid, what]) => ({ pid, what })), 50);
  t.teardown(() => stopWatch());

  const mpdPassword = `Mpd-Leak-${randomBytes(6).toString('hex')}`;
  const secretKey = randomBytes(32).toString('base64');
  book.add('MPD password', mpdPassword);
  book.add('secret key', secretKey);
  const pa = await startPulse(t);
  const mpd = await startMpd(t, { password: mpdPassword });
  const e = cliEnv(t, { XDG_RUNTIME_DIR: pa.runtime, MEDIAGATE_SECRET_KEY: secretKey });

  /** Run the CLI (children watched); `mints` marks output that shows a new secret. */
  const cli = async (args, { input, env = e.env, mints = false } = {}) => {
    const r = await runAndKill(args, { env, input, onSpawn: (pid) => roots.set(pid, `cli ${args.slice(0, 2).join(' ')}`) });
    if (mints) book.harvest(r.stdout, args.join(' '));
    outputs.push({ what: `cli ${args.slice(0, 3).join(' ')}`, text: r.stdout + r.stderr, mints });
    return r;
  };

  // MPD from config (the sealed password is only ever sent to the configured host).
  for (const [k, v] of [['mpd.host', mpd.host], ['mpd.port', String(mpd.port)]]) t.equal((await cli(['config', 'set', k, v])).code, 0, `config ${k}`);
  t.equal((await cli(['config', 'set-secret', 'mpd.password'], { input: `${mpdPassword}\n` })).code, 0, 'MPD password sealed (from stdin)');
  // A callback script on pause/play: runs as a child of serve on player events.
  const cfgPath = join(e.configDir, 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  cfg.scripts = { note: { command: ['sh', '-c', 'cat > /dev/null; sleep 0.3'], scope: 'admin' } };
  cfg.callbacks = { on: { pause: 'note', play: 'note' } };
  writeFileSync(cfgPath, JSON.stringify(cfg), { mode: 0o600 });

  const tokens = {};
  for (const scope of ['admin', 'control', 'read']) {
    const r = await cli(['token', 'create', '--label', `leak-${scope}`, '--scope', scope, '--json'], { mints: true });
    tokens[scope] = JSON.parse(r.stdout);
  }
  const rot = JSON.parse((await cli(['token', 'rotate', tokens.read.id, '--json'], { mints: true })).stdout);
  book.add('token', rot.token);
  let inv = JSON.parse((await cli(['invite', 'create', '--label', 'leak-phone', '--scope', 'control', '--uses', '5', '--json'], { mints: true })).stdout);
  inv = JSON.parse((await cli(['invite', 'rotate', inv.id, '--json'], { mints: true })).stdout);

  const srv = await startServe(t, e.env);
  roots.set(srv.pid, 'serve');
  outputs.push({ what: 'serve', get text() { return srv.out() + srv.err(); } });
  book.scanText('serve command line', cmdline(srv.pid));

  // API: mint, pair, rotate, revoke — and send secrets where they must not go.
  const from = '127.0.16.1';
  const made = await api(srv, 'POST', '/api/tokens', { token: tokens.admin.token, json: { label: 'leak-api', scope: 'read' }, from });
  book.harvest(made.text, 'POST /api/tokens');
  const madeInv = await api(srv, 'POST', '/api/invites', { token: tokens.admin.token, json: { label: 'leak-api-phone', scope: 'read' }, from });
  book.harvest(madeInv.text, 'POST /api/invites');
  const red = await api(srv, 'POST', '/api/auth/redeem', { json: { code: madeInv.json.code }, from });
  book.harvest(red.text, 'redeem');
  const ex = await api(srv, 'POST', '/api/auth/exchange', { json: { pairingToken: red.json.pairingToken, device: 'leak-tablet' }, from });
  book.harvest(ex.text, 'exchange');
  const rotated = await api(srv, 'POST', `/api/tokens/${made.json.id}/rotate`, { token: tokens.admin.token, from });
  book.harvest(rotated.text, 'rotate');
  t.equal((await api(srv, 'DELETE', `/api/tokens/${ex.json.id}`, { token: tokens.admin.token, from })).status, 200, 'revoked one');
  const misuse = [
    ['GET', `/api/status?token=${tokens.control.token}`, {}],
    ['GET', `/api/status?access_token=${rot.token}`, {}],
    ['GET', `/api/tokens/${tokens.control.token}`, { token: tokens.admin.token }],
    ['DELETE', `/api/tokens/${red.json.pairingToken}`, { token: tokens.admin.token }],
    ['GET', '/api/status', { token: red.json.pairingToken }],
    ['GET', '/api/status', { token: ex.json.token }],
    ['POST', '/api/auth/redeem', { json: { code: inv.code.replace(/.$/, (c) => (c === '0' ? '1' : '0')) } }], // a code that differs in its last character
    ['POST', '/api/auth/exchange', { json: { pairingToken: red.json.pairingToken, device: 'again' } }],
  ];
  for (const [m, p, o] of misuse) {
    const r = await api(srv, m, p, { ...o, from: '127.0.16.2' });
    t.ok(r.status >= 400, `${m} ${p.replace(/mgp?_[\w-]{43}/, 'mg_…')} refused (${r.status})`);
    outputs.push({ what: `answer to ${m} ${p.slice(0, 30)}`, text: r.text + JSON.stringify(r.headers) });
  }
  // WebSocket with the token as subprotocol; a command; a wrong token as subprotocol.
  const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/api/ws`, ['mediagate.v1', `mediagate.token.${tokens.control.token}`]);
  const wsMsgs = [];
  ws.on('message', (d) => wsMsgs.push(d.toString()));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  ws.send(JSON.stringify({ type: 'subscribe' }));
  ws.send(JSON.stringify({ type: 'command', id: 'v', action: 'volume', args: { level: 33 } }));
  const bad = new WebSocket(`${srv.url.replace('http', 'ws')}/api/ws`, ['mediagate.v1', `mediagate.token.${ex.json.token}`]);
  bad.on('error', () => {});
  await new Promise((r) => { bad.once('unexpected-response', (_q, res) => { res.resume(); r(); }); bad.once('close', r); });

  // Player events: the callbacks run their script (children of serve), PulseAudio's pactl runs too.
  mpd.mpc('-q', 'play');
  await sleep(700);
  mpd.mpc('-q', 'pause');
  await sleep(700);
  await api(srv, 'PUT', '/api/volume', { token: tokens.control.token, json: { level: 20, target: 'system' }, from });

  // The client machine: its own config; redeem with the code on stdin, token saved sealed; use it remotely.
  const client = cliEnv(t, { MPD_PORT: '1' });
  const redeem = await cli(['invite', 'redeem', '--server', srv.url, '--name', 'leak-laptop', '--save', 'home', '--json'], { input: `${inv.code}\n`, env: client.env });
  t.equal(redeem.code, 0, `the client redeemed and saved a profile ${redeem.stderr}`);
  const remoteStatus = await cli(['play', 'status', '--remote', 'home', '--json'], { env: client.env });
  t.equal(remoteStatus.code, 0, `the saved profile works (${remoteStatus.stderr.trim()})`);
  await cli(['remote', 'list', '--json'], { env: client.env });
  await cli(['config', 'list'], { env: client.env });
  // The newest device token: learn it from the server's side to search for it (the CLI never printed it).
  const devTokens = JSON.parse((await cli(['token', 'list', '--json'])).stdout).filter((x) => x.label === 'leak-laptop');
  t.equal(devTokens.length, 1, 'the client device token exists on the server');

  // Reading commands on the server machine.
  for (const args of [['token', 'list', '--all', '--json'], ['invite', 'list', '--all', '--json'], ['audit', '--json', '--limit', '10000'], ['audit', 'verify'], ['config', 'list'],
    ['config', 'get', 'mpd.password'], ['play', 'status', '--json'], ['volume', '--json']]) await cli(args);
  ws.close();
  await sleep(300);
  t.same(await srv.stop(), { code: 0, signal: null }, 'serve shut down cleanly');
  const childrenSeen = stopWatch();

  // The sealed remote token is a secret too: reveal it through the client's own store to search for it.
  const profileToken = (await runCli(['config', 'get', 'remotes.home.token', '--reveal'], { env: client.env })).stdout.trim();
  if (/^mg_/.test(profileToken)) book.add('token (client profile)', profileToken);

  // Search.
  book.scanDir(e.base);
  book.scanDir(client.base);
  // A creating command shows its secret once (an invite: as the code and inside the link, so twice).
  for (const o of outputs) book.scanText(o.what, o.text, { allow: o.mints ? [...book.items.keys()] : [], allowCount: 2 });
  for (const m of wsMsgs) book.scanText('WebSocket message', m);
  const counts = book.counts();
  t.comment(`secrets collected: ${JSON.stringify(counts)}; searched ${book.scanned.files} files (${Math.round(book.scanned.bytes / 1024)} KiB), ${book.scanned.texts} outputs, ${book.scanned.processes} child process looks (${childrenSeen} distinct children)`);
  t.same(book.findings, [], 'no secret found anywhere it must not be');
  report.row('secrets of a server + paired client, searched everywhere', book.size, book.findings.length,
    `${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}; ${book.scanned.files} files, ${book.scanned.texts} outputs, ${childrenSeen} child processes`);
});
