// The state dir on a full disk (a 512 KiB tmpfs filled to the last block;
// needs root to mount — skipped, and said so, otherwise), with the CLI and
// a running serve writing to it. Holds when token and invite creation and
// audit appends fail loudly (exit 5 / 503 with a code, a warning on
// stderr), no token is shown that was not stored, nothing is half-written
// (every state file parses and is unchanged, no temp or lock file is left,
// the audit log ends on a whole line), and once space is back everything
// works again: the queued audit events are written exactly once and
// `audit verify` passes.
import t from 'tap';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, cliEnv } from '../helpers/cli.js';
import { waitFor } from '../helpers/proc.js';
import { api, cliToken, startServe } from '../helpers/serve.js';
import { smallFilesystem } from '../helpers/tmpfs.js';
import { LEAKY } from './lib/holds.js';
import { SecretBook } from './lib/leaks.js';
import { Report } from './lib/report.js';

t.setTimeout(4 * 60_000);
const report = new Report(t, 'faults-disk');

/** Every state file parses; returns {files: name → text, problems}. */
function stateSnapshot(dir) {
  const files = {};
  const problems = [];
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.') || name.endsWith('.lock') || /\.stale-|\.tmp-/.test(name)) { problems.push(`left over: ${name}`); continue; }
    const text = readFileSync(join(dir, name), 'utf8');
    files[name] = text;
    if (name.endsWith('.json') || name === 'audit.head') {
      try { JSON.parse(text); } catch { problems.push(`${name} does not parse`); }
    }
    if (name.endsWith('.jsonl')) {
      if (text.length && !text.endsWith('\n')) problems.push(`${name} ends inside a line`);
      text.split('\n').filter(Boolean).forEach((l, i) => { try { JSON.parse(l); } catch { problems.push(`${name}:${i + 1} does not parse`); } });
    }
  }
  return { files, problems };
}

t.test('a full disk under the state dir', async (t) => {
  const disk = smallFilesystem(t, 512);
  if (disk.skip) {
    t.comment(disk.skip);
    report.row('full disk (skipped)', 0, 0, disk.skip);
    t.skip(disk.skip);
    return;
  }
  t.comment('full disk: a 512 KiB tmpfs mounted on a temp dir as the state dir, filled with files until ENOSPC');
  const stateDir = join(disk.dir, 'state');
  mkdirSync(stateDir, { mode: 0o700 });
  const e = cliEnv(t, { MEDIAGATE_STATE_DIR: stateDir, MPD_PORT: '1' });
  const book = new SecretBook();
  const admin = await cliToken(e.env, 'adv-disk-admin', 'admin');
  const control = await cliToken(e.env, 'adv-disk-control', 'control');
  book.add('token', admin.token, 'cli');
  book.add('token', control.token, 'cli');
  const inv = JSON.parse((await runCli(['invite', 'create', '--label', 'adv-disk-phone', '--scope', 'read', '--json'], { env: e.env })).stdout);
  book.add('invite code', inv.code, 'cli');
  const srv = await startServe(t, e.env);
  const outputs = [];
  const cli = async (args) => { const r = await runCli(args, { env: e.env }); outputs.push({ args, ...r }); return r; };

  // Let serve finish writing its start-up audit events first: a snapshot taken mid-append sees the
  // writers' lock file (GET /api/audit/verify flushes serve's queue before it answers).
  t.equal((await api(srv, 'GET', '/api/audit/verify', { token: admin.token })).status, 200, 'serve\'s audit queue flushed before the disk fills');
  disk.fill();
  t.equal(disk.freeBytes(), 0, 'the state filesystem is full');
  const before = stateSnapshot(stateDir);
  t.same(before.problems, [], 'state files parse before');
  let failures = 0;
  const check = (ok, what) => { t.ok(ok, what); if (!ok) failures++; };

  // CLI: creation fails loudly, with nothing shown that was not stored.
  for (const args of [['token', 'create', '--label', 'full-disk', '--scope', 'read', '--json'], ['invite', 'create', '--label', 'full-disk', '--scope', 'read', '--json'],
    ['token', 'revoke', control.id], ['token', 'rotate', admin.id]]) {
    const r = await cli(args);
    check(r.code === 5, `${args.slice(0, 2).join(' ')}: exit 5 (got ${r.code})`);
    check(/no space left/.test(r.stderr), `${args.slice(0, 2).join(' ')}: says the disk is full: ${r.stderr.trim().split('\n')[0]}`);
    check(!/mg_[A-Za-z0-9_-]{43}|[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/.test(r.stdout), `${args.slice(0, 2).join(' ')}: no token or code shown for something not stored`);
  }
  const cfg = await cli(['config', 'set', 'server.publicUrl', 'https://disk.example']);
  // A config change whose audit event cannot be written is refused like any unwritable state (exit 5), the config untouched.
  check(cfg.code === 5 && /was not changed: its audit event could not be written/.test(cfg.stderr), `a change whose audit event cannot be written fails with exit 5 (got ${cfg.code}): ${cfg.stderr.trim().split('\n')[0]}`);
  check((await cli(['config', 'get', 'server.publicUrl'])).stdout.trim() !== 'https://disk.example', 'and the config is unchanged');

  // serve: 503 with a code, no path; control requests still answered; audit failures reported once.
  const ids = [];
  for (let i = 0; i < 20; i++) {
    const id = `disk-${i}`;
    ids.push(id);
    const r = await api(srv, 'POST', '/api/player/play', { token: control.token, headers: { 'x-request-id': id } });
    check(r.status === 503, `control request ${i} answered (${r.status} ${r.json?.error?.code})`);
  }
  const tok = await api(srv, 'POST', '/api/tokens', { token: admin.token, json: { label: 'api-full', scope: 'read' } });
  check(tok.status === 503 && tok.json?.error?.code === 'state.unwritable' && tok.headers['retry-after'], `POST /api/tokens: 503 state.unwritable with Retry-After (got ${tok.status} ${tok.json?.error?.code})`);
  check(!LEAKY.test(tok.text) && !tok.json?.token, 'no path, no token in the answer');
  const invApi = await api(srv, 'POST', '/api/invites', { token: admin.token, json: { label: 'api-full', scope: 'read' } });
  check(invApi.status === 503, `POST /api/invites: 503 (got ${invApi.status} ${invApi.json?.error?.code})`);
  const redeem = await api(srv, 'POST', '/api/auth/redeem', { json: { code: inv.code } });
  check(redeem.status === 503 && !redeem.json?.pairingToken, `POST /api/auth/redeem: 503, no pairing token handed out (got ${redeem.status})`);
  // The server's audit writer runs off the request path: give it time under load (it reports at its first failed batch).
  const reported = await waitFor(() => /warning: audit events could not be written/.test(srv.err()), { timeoutMs: 10_000, what: 'the audit warning' }).then(() => true, () => false);
  check(reported, 'serve reports the audit failure on stderr');

  const during = stateSnapshot(stateDir);
  check(during.problems.length === 0, `nothing half-written or left over while full: ${during.problems.join(', ') || 'ok'}`);
  for (const name of ['tokens.json', 'invites.json', 'pairing.json']) {
    if (before.files[name] !== undefined) check(during.files[name] === before.files[name], `${name} unchanged`);
  }
  const vFull = await cli(['audit', 'verify', '--json']);
  check(vFull.code === 0, `audit verify works on the full disk and passes (${vFull.stdout.slice(0, 80).replace(/\s+/g, ' ')})`);
  report.row('full disk: CLI and API writes refused loudly, nothing half-written', 4 + 1 + 20 + 3 + 1, failures, `CLI exit 5 'no space left'; API 503 state.unwritable; files unchanged; verify ok while full`);

  // Space back: everything works, the queued audit events arrive exactly once, verify passes.
  let after = 0;
  disk.free();
  const flushed = await api(srv, 'GET', '/api/audit/verify', { token: admin.token }); // flushes the server's queue first
  t.equal(flushed.status, 200, 'GET /api/audit/verify after space is back');
  const created = await api(srv, 'POST', '/api/tokens', { token: admin.token, json: { label: 'api-after', scope: 'read' } });
  if (created.json?.token) book.add('token', created.json.token, 'POST /api/tokens');
  if (created.status !== 200) after++;
  t.equal(created.status, 200, 'token creation works again');
  const c2 = await cli(['token', 'create', '--label', 'cli-after', '--scope', 'read', '--json']);
  if (c2.code === 0) book.add('token', JSON.parse(c2.stdout).token, 'cli'); else after++;
  t.equal(c2.code, 0, 'and from the CLI');
  t.same(await srv.stop(), { code: 0, signal: null }, 'serve shut down cleanly');
  const v = await cli(['audit', 'verify', '--json']);
  if (v.code !== 0) after++;
  t.equal(v.code, 0, `audit verify passes: ${v.stdout.replace(/\s+/g, ' ').slice(0, 160)}`);
  const events = JSON.parse((await cli(['audit', '--json', '--limit', '10000'])).stdout);
  const seen = {};
  for (const ev of events) if (ev.requestId?.startsWith('disk-')) seen[ev.requestId] = (seen[ev.requestId] ?? 0) + 1;
  const missing = ids.filter((id) => !seen[id]);
  const twice = Object.entries(seen).filter(([, n]) => n > 1).map(([id]) => id);
  if (missing.length || twice.length) after++;
  t.same({ missing, twice }, { missing: [], twice: [] }, `the ${ids.length} control requests made while full are each in the audit log exactly once`);
  const end = stateSnapshot(stateDir);
  t.same(end.problems, [], 'every state file parses at the end');
  report.row('space back: writes work, queued audit events once, verify ok', 5, after, `${ids.length - missing.length}/${ids.length} queued events written, ${twice.length} twice`);

  // Secrets: none in the state/config files or in output other than where they were minted.
  book.scanDir(e.base);
  book.scanDir(stateDir);
  book.scanText('serve stdout', srv.out());
  book.scanText('serve stderr', srv.err());
  for (const o of outputs) book.scanText(`cli ${o.args.slice(0, 2).join(' ')}`, o.stdout + o.stderr, { allow: o.args[1] === 'create' ? [...book.items.keys()] : [] });
  t.same(book.findings, [], `no secret (${book.size}) leaked`);
  report.row('secrets searched', book.size, book.findings.length, `${book.scanned.files} files, ${book.scanned.texts} outputs`);
  rmSync(join(stateDir), { recursive: true, force: true });
});
