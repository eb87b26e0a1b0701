import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { serve } from '../cli/handlers/serve.js';

export default class Serve extends BaseCommand {
  static override summary = 'Run the authenticated HTTP + WebSocket API.';
  static override description = `Serves the API (status, control, volume, media folders, scripts, tokens, invites, pairing, audit; WebSocket /api/ws; the web remote at /) in the foreground until SIGINT or SIGTERM, then shuts down gracefully: in-flight requests finish (at most 5 s), WebSockets close, the audit log is flushed; exit 0.

Binds 127.0.0.1:8420 by default. A non-loopback --host needs TLS (--tls-cert and --tls-key, both) or --allow-plain-http, which starts with a warning: over plain HTTP, tokens and invite codes cross the network readable by anyone on the path. Flags override the config keys server.host, server.port, server.tlsCert, server.tlsKey and server.publicUrl; server.corsOrigins, server.trustedProxies and server.rateLimit.rps/.burst are read from config (a wildcard origin or an invalid proxy range refuses to start, exit 5).

TLS: server.tlsProfile intermediate (default; Mozilla's intermediate: TLS 1.2 with ECDHE and AEAD suites only — AES-GCM, ChaCha20-Poly1305; no CBC, no RSA key exchange — and TLS 1.3; groups X25519, P-256, P-384) or modern (TLS 1.3 only). SIGHUP re-reads the certificate and key (e.g. after an ACME renewal): new connections get them, open ones and WebSockets are kept; a pair that cannot be read or used is refused with an error and the current one stays (audited as server.tls_reload either way). Only the web remote's hashed assets are ever compressed; API answers and pages never are (BREACH).

Every request needs "Authorization: Bearer <token>" except GET /api/health, pairing (POST /api/auth/redeem, /api/auth/exchange) and signed artwork links — or, from the web remote's own pages (/ and /connect, where invite links lead), its HttpOnly session cookie with the X-Mediagate-CSRF header. On the first start with no admin token, one is created and printed once on stderr. Requests are logged on stdout, one line each (method, path without query, status, time, request id, token label); every change and every refusal is in the audit log (a flood of one kind of refusal from one address is recorded individually up to 30 a minute, then as one line with the count).

Artwork: a status answer carries a short-lived signed link (no token in it) for a player whose artwork is a local image file (an MPRIS player's file:// art), and for MPD's current song: its embedded picture, else a cover.* file in the song's folder, read from MPD (MPD is asked first: a song without a cover gets no link; the link appears, and is pushed to WebSocket subscribers, once MPD has answered). http(s) artwork is never fetched by the server.`;
  static override examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve --port 0',
    '<%= config.bin %> serve --host 0.0.0.0 --tls-cert /etc/mediagate/cert.pem --tls-key /etc/mediagate/key.pem --public-url https://media.example.net:8420',
  ];
  static override flags = {
    host: Flags.string({ description: 'address to bind (default 127.0.0.1; non-loopback needs TLS or --allow-plain-http)', helpValue: 'ADDRESS' }),
    port: Flags.integer({ description: 'TCP port (default 8420; 0 picks a free one)', min: 0, max: 65535, helpValue: 'PORT' }),
    'tls-cert': Flags.string({ description: 'TLS certificate chain, PEM (needs --tls-key)', helpValue: 'FILE' }),
    'tls-key': Flags.string({ description: 'TLS private key, PEM (needs --tls-cert; passphrase from the sealed config secret server.tlsKeyPassphrase)', helpValue: 'FILE' }),
    'allow-plain-http': Flags.boolean({ description: 'allow a non-loopback --host without TLS (tokens then cross the network unencrypted)' }),
    'public-url': Flags.string({ description: 'URL clients reach this server at, used in invite links (default: config server.publicUrl, else the address listened on)', helpValue: 'URL' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Serve);
    await this.handle(false, (ctx) => serve(ctx, {
      host: flags.host,
      port: flags.port,
      tlsCert: flags['tls-cert'],
      tlsKey: flags['tls-key'],
      allowPlainHttp: flags['allow-plain-http'],
      publicUrl: flags['public-url'],
    }));
  }
}
