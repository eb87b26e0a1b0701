// JSON bodies on a real node:http server: 64 KiB limit (declared and
// streamed — and the server stops reading), JSON only, malformed, deep,
// huge numbers, not-an-object.
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { readJsonBody, BODY_LIMIT_BYTES, MAX_JSON_DEPTH } from '../dist/server/json-body.js';
import { sendError, sendJson } from '../dist/server/http-error.js';

async function serve(t) {
  const state = { sockets: [] };
  const server = http.createServer(async (req, res) => {
    state.sockets.push(req.socket);
    try {
      const body = await readJsonBody(req, { optional: req.url === '/optional' });
      sendJson(res, 200, { got: body });
    } catch (e) {
      sendError(res, e, 'rid-1');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
  state.port = server.address().port;
  return state;
}

function post(port, body, headers = { 'content-type': 'application/json' }, path = '/') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text, json: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Send `total` bytes of body over a raw socket, return the response head and whether we could send everything. */
function rawUpload(port, { total, chunked }) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let response = '';
    let sent = 0;
    let writeError = null;
    s.on('data', (d) => { response += d; });
    s.on('error', (e) => { writeError = e.code; });
    s.on('close', () => resolve({ statusLine: response.split('\r\n')[0], response, sent, writeError }));
    s.on('connect', () => {
      s.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${total}`}\r\n\r\n`);
      const piece = Buffer.alloc(64 * 1024, 0x20); // spaces: valid JSON whitespace
      const pump = () => {
        while (sent < total && !s.destroyed) {
          const buf = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
          sent += piece.length;
          if (!s.write(buf)) { s.once('drain', pump); return; }
        }
        if (chunked && !s.destroyed) s.write('0\r\n\r\n');
      };
      pump();
    });
  });
}

t.test('allowed: a JSON object within the limit', async (t) => {
  const { port } = await serve(t);
  const r = await post(port, JSON.stringify({ level: 42, muted: false }));
  t.equal(r.status, 200);
  t.same(r.json, { got: { level: 42, muted: false } });
  const ct = await post(port, '{"a":1}', { 'content-type': 'application/json; charset=UTF-8' });
  t.equal(ct.status, 200, 'charset=utf-8 parameter accepted');
  const exact = await post(port, `{"p":"${'x'.repeat(BODY_LIMIT_BYTES - 8)}"}`);
  t.equal(exact.status, 200, 'exactly 64 KiB accepted');
  const deep = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
  t.equal((await post(port, `{"a":${deep.slice(1, -1)}}`)).status, 200, `nesting of ${MAX_JSON_DEPTH} accepted`);
  t.equal((await post(port, '{"s":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}')).status, 200, 'brackets inside strings do not count');
  const opt = await post(port, '', { 'content-length': '0' }, '/optional');
  t.same(opt.json, { got: {} }, 'empty body on an optional route is {}');
});

t.test('413: declared Content-Length over the limit — answered before reading, connection closed', async (t) => {
  const state = await serve(t);
  const r = await post(state.port, 'x'.repeat(BODY_LIMIT_BYTES + 1));
  t.equal(r.status, 413);
  t.equal(r.json.error.code, 'request.body_too_large');
  t.equal(r.json.error.requestId, 'rid-1');
  t.equal(r.headers.connection, 'close');

  const up = await rawUpload(state.port, { total: 10 * 1024 * 1024, chunked: false });
  t.match(up.statusLine, /^HTTP\/1\.1 413 /);
  await new Promise((r) => setTimeout(r, 100));
  const read = state.sockets.at(-1).bytesRead;
  t.ok(read < 1024 * 1024, `server read ${read} bytes of a declared 10 MB upload`);
  t.comment(`declared 10 MB: server read ${read} bytes`);
});

t.test('413: streamed (chunked) 10 MB — the server stops reading at the limit', async (t) => {
  const state = await serve(t);
  const up = await rawUpload(state.port, { total: 10 * 1024 * 1024, chunked: true });
  t.match(up.statusLine, /^HTTP\/1\.1 413 /, '413 reaches the client');
  t.match(up.response, /"code":"request\.body_too_large"/);
  await new Promise((r) => setTimeout(r, 100));
  const read = state.sockets.at(-1).bytesRead;
  t.ok(read < 1024 * 1024, `server read ${read} bytes of a 10 MB stream (limit ${BODY_LIMIT_BYTES})`);
  t.ok(up.sent < 10 * 1024 * 1024 || up.writeError, `the client could not push it all (sent ${up.sent}, ${up.writeError ?? 'closed'})`);
  t.comment(`chunked 10 MB: server read ${read} bytes, client managed to write ${up.sent}`);
  const after = await post(state.port, '{"still":"alive"}');
  t.equal(after.status, 200, 'the server keeps serving');
});

t.test('415: only application/json', async (t) => {
  const { port } = await serve(t);
  for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
    'application/jsonp', 'application/json-seq', 'application/json; charset=latin1', 'application/json; boundary=x', 'text/json']) {
    const headers = type ? { 'content-type': type } : {};
    const r = await post(port, '{"a":1}', headers);
    t.equal(r.status, 415, `${type ?? '(none)'} → 415`);
    t.equal(r.json.error.code, 'request.unsupported_media_type');
  }
  const gz = await post(port, '{"a":1}', { 'content-type': 'application/json', 'content-encoding': 'gzip' });
  t.equal(gz.status, 415, 'Content-Encoding: gzip → 415');
});

t.test('400: malformed, deep, huge numbers, prototype keys, empty required body', async (t) => {
  const { port } = await serve(t);
  const cases = [
    ['{"a":', 'request.invalid_json'],
    ['{a:1}', 'request.invalid_json'],
    ["{'a':1}", 'request.invalid_json'],
    ['{"a":1}garbage', 'request.invalid_json'],
    ['[' .repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1), 'request.too_deep'],
    ['['.repeat(100_000 / 2), 'request.too_deep'],
    ['{"a":' + '{"a":'.repeat(5000) + '1' + '}'.repeat(5001), 'request.too_deep'],
    ['{"n":1e999}', 'request.invalid_json'],
    [`{"n":${'9'.repeat(60_000)}}`, 'request.invalid_json'],
    ['{"__proto__":{"admin":true}}', 'request.invalid_json'],
    ['{"a":[{"__proto__":1}]}', 'request.invalid_json'],
    ['   ', 'request.body_required'],
  ];
  for (const [body, code] of cases) {
    const r = await post(port, body);
    t.equal(r.status, code === 'request.too_deep' && body.length > BODY_LIMIT_BYTES ? 413 : 400, `${body.slice(0, 30)}… → ${r.status}`);
    if (r.status === 400) t.equal(r.json.error.code, code);
  }
  const bad = await post(port, Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
  t.equal(bad.status, 400, 'invalid UTF-8');
  t.match(bad.json.error.message, /UTF-8/);
  const none = await post(port, '', { 'content-type': 'application/json', 'content-length': '0' });
  t.equal(none.status, 400);
  t.equal(none.json.error.code, 'request.body_required');
  const big = await post(port, `{"n":${'9'.repeat(300)}}`);
  t.equal(big.status, 200, 'a large but finite number is just a number');
});

t.test('422: valid JSON that is not an object', async (t) => {
  const { port } = await serve(t);
  for (const body of ['[]', '[1,2]', '"text"', '42', 'null', 'true']) {
    const r = await post(port, body);
    t.equal(r.status, 422, `${body} → 422`);
    t.equal(r.json.error.code, 'request.not_an_object');
  }
});
