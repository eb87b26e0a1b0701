import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Config } from '../../core/config/store.js';
import { ConfigError, UsageError } from '../../core/errors.js';
import { say, type Ctx } from '../context.js';
import type { MediagateServer, TlsMaterial } from '../../server/app.js';
import type { TlsProfile } from '../../server/tls.js';

export interface ServeFlags {
  host?: string | undefined;
  port?: number | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  allowPlainHttp?: boolean | undefined;
  publicUrl?: string | undefined;
}

/** Does binding `host` keep the server on this machine? (127.0.0.0/8, ::1, localhost) */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

const PLAIN_HTTP_RISK = 'bearer tokens, invite codes and pairing tokens would cross the network unencrypted, where anyone on the path can read and replay them';

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(`cannot read the TLS ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      `check --tls-${what === 'certificate' ? 'cert' : 'key'} / server.tls${what === 'certificate' ? 'Cert' : 'Key'}`, 'config.tls_unreadable');
  }
}

/** The certificate and key from their files, and the key's passphrase from the sealed config secret. */
async function readTlsMaterial(ctx: Ctx, files: { cert: string; key: string }, config: Config): Promise<TlsMaterial> {
  const { readSecret } = await import('../../core/secrets.js');
  return { cert: readPem(files.cert, 'certificate'), key: readPem(files.key, 'key'), passphrase: readSecret(config, 'server.tlsKeyPassphrase', ctx.env) };
}

/**
 * SIGHUP: read the certificate and key again (an ACME client renewed them)
 * and use them for new connections; open ones are not touched. A pair that
 * cannot be read or used leaves the current one in place, with an error.
 */
function reloadOnHangup(ctx: Ctx, srv: MediagateServer, files: { cert: string; key: string } | undefined): () => void {
  let busy = false;
  const on = () => {
    if (!files) { say(ctx, 'mediagate: SIGHUP: plain HTTP, no TLS certificate to reload'); return; }
    if (busy) return;
    busy = true;
    void (async () => {
      try {
        const material = await readTlsMaterial(ctx, files, Config.load(ctx.env));
        const r = srv.reloadTls(material);
        if (r.ok) say(ctx, `mediagate: SIGHUP: reloaded the TLS certificate ${files.cert} and key ${files.key}; new connections use them`);
        else say(ctx, `mediagate: SIGHUP: error: the new TLS certificate and key cannot be used (${r.error}); still serving the previous certificate`);
      } catch (e) {
        say(ctx, `mediagate: SIGHUP: error: ${(e as Error).message}; still serving the previous certificate`);
      } finally {
        busy = false;
      }
    })();
  };
  process.on('SIGHUP', on);
  return () => { process.off('SIGHUP', on); };
}

function checkPublicUrl(text: string): string {
  let u: URL;
  try { u = new URL(text); } catch { throw new UsageError(`invalid --public-url '${text}'`, 'use the URL clients reach the server at, e.g. https://media.example.net', 'usage.invalid_url'); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`invalid --public-url '${text}': must be http:// or https://`, undefined, 'usage.invalid_url');
  return text.replace(/\/+$/, '');
}

/** The settings `serve` runs with: flags over config `server.*` over defaults, checked. */
export async function serveOptions(ctx: Ctx, flags: ServeFlags, config: Config) {
  const host = (flags.host ?? config.get<string>('server.host') ?? '127.0.0.1').trim();
  if (host === '' || /\s/.test(host)) throw new UsageError(`invalid --host '${host}'`, 'use an address such as 127.0.0.1, ::1 or 0.0.0.0', 'usage.invalid_host');
  const port = flags.port ?? config.get<number>('server.port') ?? 8420;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid --port '${port}': must be 0–65535`, undefined, 'usage.invalid_port');
  const certPath = flags.tlsCert ?? config.get<string>('server.tlsCert');
  const keyPath = flags.tlsKey ?? config.get<string>('server.tlsKey');
  if (Boolean(certPath) !== Boolean(keyPath)) {
    throw new UsageError(`TLS needs both a certificate and a key: only the ${certPath ? 'certificate' : 'key'} was given`,
      'give both --tls-cert FILE and --tls-key FILE (or server.tlsCert and server.tlsKey), or neither', 'usage.tls_incomplete');
  }
  const tlsFiles = certPath && keyPath ? { cert: certPath, key: keyPath } : undefined;
  const tls = tlsFiles ? await readTlsMaterial(ctx, tlsFiles, config) : undefined;
  if (!tls && !isLoopbackHost(host)) {
    if (!flags.allowPlainHttp) {
      throw new UsageError(`refusing to serve plain HTTP on ${host}, a non-loopback address: ${PLAIN_HTTP_RISK}`,
        'give --tls-cert FILE --tls-key FILE, or keep the default 127.0.0.1 behind a TLS reverse proxy, or accept the risk with --allow-plain-http', 'usage.plain_http_refused');
    }
    say(ctx, `mediagate: warning: serving plain HTTP on ${host} (--allow-plain-http): ${PLAIN_HTTP_RISK}. Use it only on a network you trust completely; prefer --tls-cert/--tls-key or a TLS reverse proxy.`);
  }
  const publicUrl = flags.publicUrl !== undefined ? checkPublicUrl(flags.publicUrl) : undefined;
  let mpdPassword: string | undefined;
  if (config.has('mpd.password')) {
    const { readSecret } = await import('../../core/secrets.js');
    mpdPassword = readSecret(config, 'mpd.password', ctx.env);
  }
  let mqtt: import('../../core/mqtt/settings.js').BrokerSettings | undefined;
  if (config.has('mqtt.url')) {
    const { brokerSettings } = await import('../../core/mqtt/settings.js');
    mqtt = await brokerSettings(config, ctx.env);
  }
  return {
    host,
    port,
    tls,
    tlsFiles,
    tlsProfile: config.get<TlsProfile>('server.tlsProfile') ?? 'intermediate',
    publicUrl,
    mqtt,
    corsOrigins: config.get<string[]>('server.corsOrigins') ?? [],
    trustedProxies: config.get<string[]>('server.trustedProxies') ?? [],
    rateLimit: { rps: config.get<number>('server.rateLimit.rps') ?? 20, burst: config.get<number>('server.rateLimit.burst') ?? 40 },
    mpdPassword,
  };
}

/** Resolves on SIGINT/SIGTERM; a second signal during shutdown exits at once. */
function signals(ctx: Ctx): { stopped: Promise<string>; dispose(): void } {
  let stopping = false;
  let resolve!: (s: string) => void;
  const stopped = new Promise<string>((r) => { resolve = r; });
  const on = (sig: NodeJS.Signals) => {
    if (stopping) {
      say(ctx, `mediagate: ${sig} again: exiting without finishing the shutdown`);
      process.exit(1);
    }
    stopping = true;
    resolve(sig);
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return { stopped, dispose: () => { process.off('SIGINT', on); process.off('SIGTERM', on); } };
}

/**
 * `mediagate serve`: run the API in the foreground until SIGINT/SIGTERM,
 * then shut down gracefully (in-flight requests finish, WebSockets close,
 * the audit log is flushed) and exit 0.
 */
export async function serve(ctx: Ctx, flags: ServeFlags): Promise<void> {
  const sig = signals(ctx);
  try {
    const config = Config.load(ctx.env);
    const options = await serveOptions(ctx, flags, config);
    const { createServer, SERVER_ACTOR } = await import('../../server/app.js');
    const srv = await createServer({ env: ctx.env, config, ...options, stdout: ctx.stdout, stderr: ctx.stderr });
    try {
      const started = await Promise.race([srv.listen(), sig.stopped.then(() => null)]);
      if (!started) return;
      const base = options.publicUrl ?? config.get<string>('server.publicUrl') ?? started.url;
      const { firstStart } = await import('../../server/first-start.js');
      const first = await firstStart(srv.app.tokens, srv.app.stateDir, SERVER_ACTOR, ctx.now);
      if (first.kind === 'minted') {
        const t = first.token.token;
        say(ctx, [
          '',
          `mediagate: first start: created an admin token (label "${first.token.label}", id ${first.token.id}).`,
          'It is shown only this once and only its hash is stored: keep it somewhere safe now.',
          '',
          `    ${t}`,
          '',
          `  try it:     curl -H "Authorization: Bearer ${t}" ${base}/api/status`,
          `  remote CLI: mediagate remote add home ${base}   (and give it this token)`,
          '  devices:    mediagate invite create --label phone --scope control   (pair a phone without copying tokens)',
          `  revoke it:  mediagate token revoke ${first.token.id}`,
          '',
        ].join('\n'));
      } else if (first.kind === 'no-admin') {
        say(ctx, 'mediagate: note: no admin token is active; create one with: mediagate token create --label NAME --scope admin');
      }
      const snap = srv.app.live.snapshot();
      if (snap.players.length === 0) {
        say(ctx, `mediagate: note: no player found yet${snap.problems.length ? ` (${snap.problems.join('; ')})` : ''}; it is picked up when it appears`);
      }
      const stopReloading = reloadOnHangup(ctx, srv, options.tlsFiles);
      // Last of the start-up messages: scripts (and tests) may take it to mean "ready".
      say(ctx, `mediagate: listening on ${started.url}`);
      const s = await sig.stopped;
      stopReloading();
      say(ctx, `mediagate: ${s}: shutting down`);
    } finally {
      await srv.close();
    }
  } finally {
    sig.dispose();
  }
}
