// A 413 reaches the client: a real `serve` answers an over-limit upload and
// then closes gently (its FIN after the answer; what the client is still
// sending is read and dropped for a bounded time), instead of closing a
// socket with unread bytes, which the kernel turns into a reset that can
// overtake the answer. Clients here behave as curl and browsers do: they keep
// writing until the answer arrives (raw sockets, 64 KiB at a time), or write
// everything first and only then read (a blocking client).
import t from 'tap';
import net from 'node:net';
import { exchange, parseResponses } from './adversarial/lib/raw-http.js';
import { serveEnv, startServe } from './helpers/serve.js';

const head = (len, path = '/api/auth/redeem', extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${extra}${len === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${len}`}\r\n\r\n`;

/** Write everything, only then read; resolves {status, error}. */
function blockingClient(port, bytes) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks = [];
    let error;
    s.on('data', (d) => chunks.push(d));
    s.on('error', (e) => { error = e.code; });
    s.on('close', () => {
      const p = parseResponses(Buffer.concat(chunks), ['POST']);
      resolve({ status: p.responses[0]?.status, error });
    });
    s.on('connect', () => { s.pause(); s.write(bytes, () => { s.resume(); }); });
    setTimeout(() => s.destroy(), 15000).unref();
  });
}

t.test('every over-limit upload gets its 413, never a reset', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const srv = await startServe(t, env);
  const ten = Buffer.alloc(10 * 1024 * 1024, 0x20);
  const rounds = 48;
  const seen = {};
  for (let i = 0; i < rounds; i++) {
    const chunked = i % 2 === 1;
    const body = chunked ? Buffer.concat([Buffer.from(`${ten.length.toString(16)}\r\n`), ten, Buffer.from('\r\n0\r\n\r\n')]) : ten;
    const r = await exchange({ port: srv.port, bytes: [Buffer.from(head(chunked ? 'chunked' : ten.length)), body], timeoutMs: 15000, methods: ['POST'] });
    const res = parseResponses(r.data, ['POST']).responses[0];
    const key = res ? `${res.status}` : `none (${r.error?.code ?? (r.timedOut ? 'timeout' : 'closed')})`;
    seen[key] = (seen[key] ?? 0) + 1;
  }
  t.same(seen, { 413: rounds }, `${rounds} uploads of 10 MB, announced and chunked: ${JSON.stringify(seen)}`);
});

t.test('a client that writes its whole (over-limit) body before reading gets the 413', async (t) => {
  const { env } = await serveEnv(t, {}, { 'server.rateLimit.rps': 0 });
  const srv = await startServe(t, env);
  const body = Buffer.alloc(1024 * 1024, 0x20);
  const seen = {};
  for (let i = 0; i < 12; i++) {
    const chunked = i % 2 === 1;
    const payload = chunked ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]) : body;
    const r = await blockingClient(srv.port, Buffer.concat([Buffer.from(head(chunked ? 'chunked' : body.length)), payload]));
    const key = r.status ? String(r.status) : `none (${r.error ?? 'closed'})`;
    seen[key] = (seen[key] ?? 0) + 1;
  }
  t.same(seen, { 413: 12 }, `12 uploads of 1 MiB written before reading: ${JSON.stringify(seen)}`);
});
