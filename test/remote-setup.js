// Shared set-up of the --remote tests (test/remote-cli.test.js, test/remote-admin.test.js):
// two "machines" — the server's (config/state dirs `mediagate serve` uses, a
// real MPD) and a client's (its own config dir with the remote profiles, and
// an MPD address where nothing listens, so a command that silently ran
// locally there would fail rather than pass) — and the comparison of a
// command run on the server's machine with the same command over --remote.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startMpd } from './helpers/mpd.js';
import { cliEnv, runCli } from './helpers/cli.js';
import { startServe, serveEnv } from './helpers/serve.js';
import { sanitizeMessage } from '../dist/server/http-error.js';

export const mpcState = (mpd) => {
  const m = /^\[(playing|paused)\]/m.exec(mpd.mpc('status'));
  return m ? m[1] : 'stopped';
};
export const mpcSong = (mpd) => mpd.mpc('current', '-f', '%title%');
export const mpcVolume = (mpd) => Number(/volume:\s*(\d+)%/.exec(mpd.mpc('status'))?.[1]);

/** Placeholders for what must differ between two runs: ids, secrets, codes, times. */
export function norm(s) {
  return s
    .replace(/mg_[A-Za-z0-9_-]{43}/g, 'mg_TOKEN')
    .replace(/tok_[a-z0-9]+/g, 'tok_ID')
    .replace(/inv_[a-z0-9]+/g, 'inv_ID')
    .replace(/\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b/g, 'CODE')
    .replace(/#code=[^\s"]+/g, '#code=CODE')
    // Invite links: the local CLI uses server.publicUrl or its default; the server knows the address it listens on.
    .replace(/http:\/\/127\.0\.0\.1:\d+\/connect/g, 'URL/connect')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, 'TIME')
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\dZ/g, 'WHEN')
    .replace(/\b(in \d+[smhd]|\d+[smhd] ago|now|never)\b/g, 'REL')
    .replace(/-[ab]\b/g, '-X')
    .replace(/ +/g, ' ');
}
export const json = (r) => { try { return JSON.parse(r.stdout); } catch { throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`); } };

export function filesUnder(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p)); else if (statSync(p).isFile()) out.push(p);
  }
  return out;
}


/**
 * What the local stderr looks like after the server's documented redaction:
 * an error's message and hint cross the API through sanitizeMessage (one
 * line, no absolute paths), so that is the most a remote run can repeat.
 */
export function redacted(stderr) {
  return stderr.split('\n').map((line) => {
    const m = /^(mediagate: |hint: )(.*)$/.exec(line);
    if (m) return m[1] + sanitizeMessage(m[2]);
    if (line.startsWith('{"error":')) {
      const e = JSON.parse(line).error;
      return JSON.stringify({ error: { code: e.code, message: sanitizeMessage(e.message), ...(e.hint ? { hint: sanitizeMessage(e.hint) } : {}) } });
    }
    return line;
  }).join('\n');
}

/**
 * A real MPD, a real `mediagate serve` over it on 127.0.0.1, and a client
 * whose profile 'home' holds the server's first-start admin token.
 * `serverConfig(mpd)`: config keys set on the server's machine before serve starts.
 *   local(...args)    the CLI on the server's machine (same MPD, config and state as the server)
 *   remote(...args)   the CLI on the client, with --remote home
 *   onClient(args, {env, input})   the CLI on the client, as given
 *   same(t, args)     local and remote: same exit code, stdout and (redacted) stderr
 *   settled(check)    wait until the server's pushed status passes `check`
 */
export async function remoteSetup(t, { addHome = true, serverConfig } = {}) {
  const mpd = await startMpd(t);
  const server = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) }, serverConfig ? serverConfig(mpd) : {});
  const srv = await startServe(t, server.env);
  if (!srv.adminToken) throw new Error(`serve printed no first-start admin token:\n${srv.err()}`);
  const client = cliEnv(t, { MPD_HOST: '127.0.0.1', MPD_PORT: '1' });

  const local = (...args) => runCli(args, { env: server.env });
  const onClient = (args, opts = {}) => runCli(args, { env: { ...client.env, ...(opts.env ?? {}) }, input: opts.input });
  const remote = (...args) => onClient([...args, '--remote', 'home']);

  async function settled(check, what) {
    const end = Date.now() + 5000;
    let last;
    while (Date.now() < end) {
      last = await remote('status', '--json', '--player', 'mpd');
      if (last.code === 0 && check(JSON.parse(last.stdout))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`server state did not settle (${what}): ${last.stdout}${last.stderr}`);
  }

  async function same(t, args, { normalize = (s) => s, stderr = true } = {}) {
    const l = await local(...args);
    const r = await remote(...args);
    t.equal(r.code, l.code, `exit code of '${args.join(' ')}' (${l.code})`);
    t.equal(normalize(r.stdout), normalize(l.stdout), `stdout of '${args.join(' ')}'`);
    if (stderr) t.equal(normalize(r.stderr), normalize(redacted(l.stderr)), `stderr of '${args.join(' ')}'`);
    return { l, r };
  }

  if (addHome) {
    const home = await onClient(['remote', 'add', 'home', srv.url], { input: `${srv.adminToken}\n` });
    if (home.code !== 0) throw new Error(`remote add home: ${home.stderr}`);
  }
  return { mpd, server, srv, client, local, onClient, remote, settled, same };
}
