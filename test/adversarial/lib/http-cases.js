// Generated HTTP requests for fuzzing `serve`: a fast-check arbitrary of
// request specs (method, path, headers, body, each either plausible or
// mutated), and render(), which turns a spec into the exact bytes sent.
import fc from 'fast-check';

/** Every route (logout is left out of the authenticated ones: it would revoke the fuzzer's own token). */
export const ROUTES = [
  ['GET', '/api/health'], ['GET', '/api/status'], ['GET', '/api/players'], ['GET', '/api/volume'],
  ['PUT', '/api/volume'], ['POST', '/api/player/play'], ['POST', '/api/player/pause'], ['POST', '/api/player/toggle'],
  ['POST', '/api/player/stop'], ['POST', '/api/player/next'], ['POST', '/api/player/previous'], ['POST', '/api/player/seek'],
  ['GET', '/api/media/browse'], ['POST', '/api/media/play'], ['GET', '/api/scripts'], ['POST', '/api/scripts/hello/run'],
  ['GET', '/api/tokens'], ['POST', '/api/tokens'], ['DELETE', '/api/tokens/tok_nosuchtoken'], ['POST', '/api/tokens/tok_nosuchtoken/rotate'],
  ['GET', '/api/invites'], ['POST', '/api/invites'], ['DELETE', '/api/invites/inv_nosuchinvite'], ['POST', '/api/invites/inv_nosuchinvite/rotate'],
  ['GET', '/api/audit'], ['GET', '/api/audit/verify'], ['POST', '/api/auth/redeem'], ['POST', '/api/auth/exchange'],
  ['GET', '/api/auth/whoami'], ['GET', '/api/artwork'], ['GET', '/api/ws'], ['GET', '/'], ['GET', '/api'],
];

/** Plausible bodies per route: the fuzzer mutates these. */
const GOOD_BODIES = {
  '/api/volume': ['{"level":40}', '{"muted":true}', '{"change":-5}', '{"level":35,"muted":false}'],
  '/api/player/seek': ['{"position":3}', '{"offset":-2}', '{"percent":10}'],
  '/api/tokens': ['{"label":"fuzz made","scope":"read"}', '{"label":"f2","scope":"admin","expiresIn":"1h"}'],
  '/api/invites': ['{"label":"fuzz phone","scope":"control","uses":2}'],
  '/api/auth/redeem': ['{"code":"ABCD-EFGH-JKMN-PQRS"}'],
  '/api/auth/exchange': ['{"pairingToken":"mgp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","device":"fuzz"}'],
  '/api/media/play': ['{"folder":"music","path":"a.ogg"}'],
  '/api/player/play': ['{}', '{"player":"mpd"}'],
};

const STD_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'MKCOL', 'PURGE'];

const method = fc.oneof(
  { weight: 24, arbitrary: fc.constant(null) }, // the route's own method
  { weight: 3, arbitrary: fc.constantFrom(...STD_METHODS) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{1,12}$/) },
  { weight: 1, arbitrary: fc.constantFrom('get', 'Post', 'G ET', 'GET\t', '', ' GET', 'GET/', 'G\u0000T', 'ÄÖÜ', 'X'.repeat(2000)) },
);

/** Raw (unencoded) bytes in the request target one time in four; else percent-encoded. */
const rawSometimes = fc.nat(3).map((n) => n === 0);

const pathMutation = fc.oneof(
  { weight: 24, arbitrary: fc.constant({ kind: 'asis' }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('encode'), at: fc.nat(), upper: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('double-encode'), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('dots'), form: fc.constantFrom('/./', '/../', '/%2e%2e/', '/.%2E/', '/%2e/', '/x/../', '//', '/;/', '\\..\\', '/%5c../', '/%2f/', '/..%2f', '/%c0%ae%c0%ae/') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('nul'), raw: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('overlong'), n: fc.constantFrom(300, 2100, 9000, 70000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unicode'), s: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), raw: rawSometimes }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes'), s: fc.uint8Array({ minLength: 1, maxLength: 12 }), raw: rawSometimes }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('form'), form: fc.constantFrom('absolute', 'star', 'empty', 'noslash', 'fragment', 'trailing', 'case', 'spaces') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('segment'), s: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 40 }), raw: rawSometimes }) },
);

const query = fc.oneof(
  { weight: 14, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.webQueryParameters().map((q) => `?${q}`) },
  { weight: 1, arbitrary: fc.constantFrom('?player=mpd', '?player=%00', '?player=', '?player=' + 'p'.repeat(300), '?limit=-1', '?limit=99999999999999999999', '?limit=1e3',
    '?since=1h', '?since=%ff', '?since=9999999y', '?target=banana', '?all=1', '?folder=music&path=../../etc/passwd', '?path=%2e%2e%2f', '?outcome=%00',
    '?token=mg_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '?access_token=x', '?a=1&a=2&a=3', '?%', '?%zz=1', '?=', '??', '?&&&', '?sig=x&exp=1&player=mpd&id=1') },
  { weight: 1, arbitrary: fc.tuple(fc.string({ unit: 'binary-ascii', maxLength: 60 }), rawSometimes).map(([s, raw]) => `?${raw ? s : encodeBytes(Buffer.from(s, 'latin1'))}`) },
);

const authorization = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('read', 'control', 'admin') },
  { weight: 3, arbitrary: fc.constant('none') },
  { weight: 1, arbitrary: fc.constantFrom('duplicate-valid-first', 'duplicate-valid-last', 'duplicate-same', 'oversized-10k', 'oversized-100k', 'basic',
    'pairing', 'lowercase', 'no-space', 'two-spaces', 'trailing', 'comma-two', 'empty', 'bearer-only', 'unknown-token', 'nul', 'tab', 'utf8', 'almost-token', 'revoked') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 80 }).map((s) => `raw:${s}`) },
);

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('json') },
  { weight: 2, arbitrary: fc.constant('none') },
  { weight: 2, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x', 'APPLICATION/JSON', 'application/json;', 'application/json; foo=bar', 'application/jsonx', '*/*', '', 'application/json, text/plain',
    'application/json; charset="utf-8"', 'application/ld+json', 'duplicate') },
);

const framing = fc.oneof(
  { weight: 30, arbitrary: fc.constant('cl') },
  { weight: 2, arbitrary: fc.constant('chunked') },
  { weight: 3, arbitrary: fc.constantFrom('none', 'cl-short', 'cl-long', 'cl-negative', 'cl-text', 'cl-duplicate-diff', 'cl-duplicate-same', 'cl-huge', 'cl-plus', 'cl-hex',
    'chunked+cl', 'chunked-bad-hex', 'chunked-ext', 'chunked-no-end', 'chunked-gzip', 'te-gzip', 'te-duplicate', 'te-obs-fold', 'chunked-huge-size', 'chunked-lf-only',
    'chunked-trailer', 'expect-continue', 'content-encoding-gzip') },
);

const body = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'none' }) },
  { weight: 6, arbitrary: fc.constant({ kind: 'good' }) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => ({ kind: 'json', v })) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => ({ kind: 'text', s })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => ({ kind: 'bytes', b })) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('field'), field: fc.constantFrom('level', 'muted', 'change', 'position', 'offset', 'percent', 'label', 'scope', 'uses', 'expiresIn', 'code', 'pairingToken', 'device', 'player', 'target', 'folder', 'path'),
    value: fc.oneof(fc.constantFrom('1e400', '-1e400', '1e308', '-0', '0.1', '123456789012345678901234567890', '9007199254740993', 'NaN', 'Infinity', '"40"', '[40]', '{}', 'null', 'true', '""', '"\\u0000"', '"' + 'x'.repeat(300) + '"', '-1', '101', '1.5', '"../../etc/passwd"', '"/etc/passwd"', '"C:\\\\x"'), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v))) }) },
  { weight: 2, arbitrary: fc.constantFrom('deep-40', 'deep-5000', 'deep-object-100', 'proto', 'constructor', 'huge-array', 'big-70k', 'truncated', 'bom', 'invalid-utf8', 'surrogate', 'dup-keys', 'trailing-garbage', 'two-values', 'nul-in-json', 'utf16').map((k) => ({ kind: k })) },
);

const extra = fc.oneof(
  fc.constantFrom('host-missing', 'host-duplicate', 'host-weird', 'xff-garbage', 'xff-long', 'origin-evil', 'origin-null', 'request-id-safe', 'request-id-unsafe', 'request-id-long',
    'upgrade-websocket', 'connection-close', 'many-headers', 'header-no-colon', 'header-bad-name', 'header-space-before-colon', 'obs-fold', 'lf-only', 'http10', 'http2-version', 'bad-version',
    'cookie', 'accept-encoding', 'range', 'if-none-match', 'pipeline-health', 'huge-header-value', 'header-nul', 'header-utf8'),
);
const extras = fc.oneof(
  { weight: 14, arbitrary: fc.constant([]) },
  { weight: 3, arbitrary: fc.array(extra, { minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.array(extra, { minLength: 2, maxLength: 3 }) },
);

/** One generated request. */
export const requestSpec = fc.record({ route: fc.nat({ max: ROUTES.length - 1 }), method, pathMutation, query, authorization, contentType, framing, body, extras, variant: fc.nat(1000) });

/** Percent-encode every byte that is not unreserved. */
function encodeBytes(buf) {
  let out = '';
  for (const b of buf) out += /[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`;
  return out;
}

function percentEncode(ch, upper) {
  const hex = Buffer.from(ch, 'utf8').toString('hex');
  const pairs = hex.match(/../g).map((h) => `%${upper ? h.toUpperCase() : h}`);
  return pairs.join('');
}

function mutatePath(path, m) {
  switch (m.kind) {
    case 'asis': return path;
    case 'encode': { const i = 1 + (m.at % Math.max(1, path.length - 1)); return path.slice(0, i) + percentEncode(path[i] ?? 'a', m.upper) + path.slice(i + 1); }
    case 'double-encode': { const i = 1 + (m.at % Math.max(1, path.length - 1)); return path.slice(0, i) + percentEncode(path[i] ?? 'a', true).replace(/%/g, '%25') + path.slice(i + 1); }
    case 'dots': { const i = path.indexOf('/', 1); return i < 0 ? path + m.form : path.slice(0, i) + m.form + path.slice(i + 1); }
    case 'nul': return m.raw ? `${path}\u0000x` : `${path}%00`;
    case 'overlong': return path + '/a'.repeat(m.n / 2);
    case 'unicode': return `${path}/${m.raw ? Buffer.from(m.s, 'utf8').toString('latin1') : encodeBytes(Buffer.from(m.s, 'utf8'))}`;
    case 'bytes': return `${path}/${m.raw ? Buffer.from(m.s).toString('latin1') : encodeBytes(Buffer.from(m.s))}`;
    case 'segment': return `${path}/${m.raw ? m.s : encodeBytes(Buffer.from(m.s, 'latin1'))}`;
    case 'form':
      switch (m.form) {
        case 'absolute': return `http://127.0.0.1${path}`;
        case 'star': return '*';
        case 'empty': return '';
        case 'noslash': return path.slice(1);
        case 'fragment': return `${path}#frag`;
        case 'trailing': return `${path}/`;
        case 'case': return path.toUpperCase();
        case 'spaces': return path.replace('/api', '/ api');
      }
  }
  return path;
}

function deep(n, open = '[', close = ']') { return open.repeat(n) + close.repeat(n); }

function bodyBytes(spec, path) {
  const b = spec.body;
  const goods = GOOD_BODIES[path] ?? ['{}'];
  const good = goods[spec.variant % goods.length];
  switch (b.kind) {
    case 'none': return null;
    case 'good': return Buffer.from(good);
    case 'json': return Buffer.from(JSON.stringify(b.v) ?? 'null');
    case 'text': return Buffer.from(b.s, 'utf8');
    case 'bytes': return Buffer.from(b.b);
    case 'field': {
      const base = JSON.parse(good && good.startsWith('{') ? good : '{}');
      const rest = JSON.stringify({ ...base, [b.field]: 0 }).replace(`"${b.field}":0`, `"${b.field}":${b.value}`);
      return Buffer.from(rest);
    }
    case 'deep-40': return Buffer.from(deep(40));
    case 'deep-5000': return Buffer.from(deep(5000));
    case 'deep-object-100': return Buffer.from('{"a":'.repeat(100) + '1' + '}'.repeat(100));
    case 'proto': return Buffer.from('{"__proto__":{"admin":true},"level":10}');
    case 'constructor': return Buffer.from('{"constructor":{"prototype":{"polluted":1}},"level":10}');
    case 'huge-array': return Buffer.from(`[${'0,'.repeat(20000)}0]`);
    case 'big-70k': return Buffer.from(`{"label":"${'x'.repeat(70 * 1024)}"}`);
    case 'truncated': return Buffer.from(good.slice(0, Math.max(1, good.length - 3)));
    case 'bom': return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(good)]);
    case 'invalid-utf8': return Buffer.concat([Buffer.from('{"label":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('","scope":"read"}')]);
    case 'surrogate': return Buffer.from('{"label":"\\ud800","scope":"read","device":"\\udfff"}');
    case 'dup-keys': return Buffer.from('{"level":10,"level":"x","level":200}');
    case 'trailing-garbage': return Buffer.from(`${good}garbage`);
    case 'two-values': return Buffer.from(`${good}${good}`);
    case 'nul-in-json': return Buffer.from('{"label":"a\u0000b","scope":"read"}');
    case 'utf16': return Buffer.from(good, 'utf16le');
  }
  return null;
}

/** The Authorization header line(s) for the spec (`ctx.tokens` holds real secrets). */
function authLines(a, ctx) {
  const tk = ctx.tokens;
  switch (a) {
    case 'none': return [];
    case 'read': case 'control': case 'admin': return [`Authorization: Bearer ${tk[a]}`];
    case 'duplicate-valid-first': return [`Authorization: Bearer ${tk.admin}`, 'Authorization: Bearer mg_garbage'];
    case 'duplicate-valid-last': return ['Authorization: Bearer mg_garbage', `Authorization: Bearer ${tk.admin}`];
    case 'duplicate-same': return [`Authorization: Bearer ${tk.read}`, `Authorization: Bearer ${tk.read}`];
    case 'oversized-10k': return [`Authorization: Bearer ${'A'.repeat(10_000)}`];
    case 'oversized-100k': return [`Authorization: Bearer ${'A'.repeat(100_000)}`];
    case 'basic': return [`Authorization: Basic ${Buffer.from('admin:admin').toString('base64')}`];
    case 'pairing': return [`Authorization: Bearer ${ctx.pairingToken}`];
    case 'lowercase': return [`authorization: bearer ${tk.read}`];
    case 'no-space': return [`Authorization: Bearer${tk.read}`];
    case 'two-spaces': return [`Authorization: Bearer  ${tk.read}`];
    case 'trailing': return [`Authorization: Bearer ${tk.read}x`];
    case 'comma-two': return [`Authorization: Bearer ${tk.read}, Bearer ${tk.admin}`];
    case 'empty': return ['Authorization: '];
    case 'bearer-only': return ['Authorization: Bearer'];
    case 'unknown-token': return [`Authorization: Bearer mg_${'Q'.repeat(43)}`];
    case 'nul': return [`Authorization: Bearer ${tk.read}\u0000`];
    case 'tab': return [`Authorization:\tBearer\t${tk.read}`];
    case 'utf8': return ['Authorization: Bearer mg_ÄÖÜ€'];
    case 'almost-token': return [`Authorization: Bearer ${tk.read.slice(0, -1)}`];
    case 'revoked': return [`Authorization: Bearer ${ctx.revokedToken}`];
    default: return [`Authorization: ${a.slice(4)}`];
  }
}

function ctLines(c) {
  if (c === 'none') return [];
  if (c === 'json') return ['Content-Type: application/json'];
  if (c === 'duplicate') return ['Content-Type: application/json', 'Content-Type: text/plain'];
  return [`Content-Type: ${c}`];
}

function chunk(buf, size) {
  const parts = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return parts;
}

function chunked(body, { ext = '', bad = false, end = true, lf = false, trailer = false } = {}) {
  const nl = lf ? '\n' : '\r\n';
  const out = [];
  for (const c of chunk(body, 7)) {
    out.push(Buffer.from(`${bad ? 'zz' : c.length.toString(16)}${ext}${nl}`), c, Buffer.from(nl));
  }
  if (end) out.push(Buffer.from(`0${nl}${trailer ? `X-Trailer: 1${nl}` : ''}${nl}`));
  return Buffer.concat(out);
}

/**
 * The bytes of `spec` for a server, and what to expect:
 * {bytes, methods (for HEAD), label, truncated (the server may rightly never answer)}.
 */
export function render(spec, ctx) {
  const [routeMethod, routePath] = ROUTES[spec.route];
  const m = spec.method ?? routeMethod;
  const useAuth = !(routePath === '/api/auth/logout');
  let path = mutatePath(routePath, spec.pathMutation) + spec.query;
  let version = 'HTTP/1.1';
  const lines = [];
  let host = ['Host: 127.0.0.1'];
  let lf = false;
  let truncated = false;
  let pipelineHealth = false;
  for (const x of spec.extras) {
    switch (x) {
      case 'host-missing': host = []; break;
      case 'host-duplicate': host = ['Host: 127.0.0.1', 'Host: evil.example']; break;
      case 'host-weird': host = ['Host: [::1]:99999']; break;
      case 'xff-garbage': lines.push('X-Forwarded-For: 1.2.3.4, garbage, ::ffff:999.1.1.1'); break;
      case 'xff-long': lines.push(`X-Forwarded-For: ${Array.from({ length: 400 }, (_, i) => `10.0.${i % 250}.${i % 200}`).join(', ')}`); break;
      case 'origin-evil': lines.push('Origin: https://evil.example'); break;
      case 'origin-null': lines.push('Origin: null'); break;
      case 'request-id-safe': lines.push(`X-Request-ID: fuzz-${spec.variant}`); break;
      case 'request-id-unsafe': lines.push('X-Request-ID: <script>\u0007'); break;
      case 'request-id-long': lines.push(`X-Request-ID: ${'r'.repeat(5000)}`); break;
      case 'upgrade-websocket': lines.push('Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='); break;
      case 'connection-close': lines.push('Connection: close'); break;
      case 'many-headers': for (let i = 0; i < 300; i++) lines.push(`X-Many-${i}: ${i}`); break;
      case 'header-no-colon': lines.push('ThisHeaderHasNoColon'); break;
      case 'header-bad-name': lines.push('Bad Name(): x'); break;
      case 'header-space-before-colon': lines.push('X-Space : x'); break;
      case 'obs-fold': lines.push('X-Folded: a', ' continued'); break;
      case 'lf-only': lf = true; break;
      case 'http10': version = 'HTTP/1.0'; break;
      case 'http2-version': version = 'HTTP/2.0'; break;
      case 'bad-version': version = 'HTTX/1.1'; break;
      case 'cookie': lines.push('Cookie: session=abc; mg=mg_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'); break;
      case 'accept-encoding': lines.push('Accept-Encoding: gzip, br, deflate'); break;
      case 'range': lines.push('Range: bytes=0-1,5-2'); break;
      case 'if-none-match': lines.push('If-None-Match: "x", *'); break;
      case 'pipeline-health': pipelineHealth = true; break;
      case 'huge-header-value': lines.push(`X-Huge: ${'h'.repeat(20_000)}`); break;
      case 'header-nul': lines.push('X-Nul: a\u0000b'); break;
      case 'header-utf8': lines.push('X-Utf8: ÄÖÜ€𝄞'); break;
    }
  }
  let payload = bodyBytes(spec, routePath);
  const framingLines = [];
  let wire = payload ?? Buffer.alloc(0);
  switch (spec.framing) {
    case 'cl': if (payload) framingLines.push(`Content-Length: ${payload.length}`); break;
    case 'none': break; // body bytes (if any) become garbage after the request
    case 'cl-short': if (payload) framingLines.push(`Content-Length: ${Math.max(0, payload.length - 2)}`); break;
    case 'cl-long': framingLines.push(`Content-Length: ${(payload?.length ?? 0) + 10}`); truncated = true; break;
    case 'cl-negative': framingLines.push('Content-Length: -5'); break;
    case 'cl-text': framingLines.push('Content-Length: ten'); break;
    case 'cl-duplicate-diff': framingLines.push(`Content-Length: ${payload?.length ?? 0}`, `Content-Length: ${(payload?.length ?? 0) + 1}`); break;
    case 'cl-duplicate-same': framingLines.push(`Content-Length: ${payload?.length ?? 0}`, `Content-Length: ${payload?.length ?? 0}`); break;
    case 'cl-huge': framingLines.push('Content-Length: 99999999999999999999999'); truncated = true; break;
    case 'cl-plus': framingLines.push(`Content-Length: +${payload?.length ?? 0}`); break;
    case 'cl-hex': framingLines.push('Content-Length: 0x10'); break;
    case 'chunked': framingLines.push('Transfer-Encoding: chunked'); wire = chunked(wire); break;
    case 'chunked+cl': framingLines.push('Transfer-Encoding: chunked', `Content-Length: ${wire.length}`); wire = chunked(wire); break;
    case 'chunked-bad-hex': framingLines.push('Transfer-Encoding: chunked'); wire = chunked(wire.length ? wire : Buffer.from('{}'), { bad: true }); break;
    case 'chunked-ext': framingLines.push('Transfer-Encoding: chunked'); wire = chunked(wire, { ext: ';name=value;x' }); break;
    case 'chunked-no-end': framingLines.push('Transfer-Encoding: chunked'); wire = chunked(wire, { end: false }); truncated = true; break;
    case 'chunked-gzip': framingLines.push('Transfer-Encoding: gzip, chunked'); wire = chunked(wire); break;
    case 'te-gzip': framingLines.push('Transfer-Encoding: gzip'); break;
    case 'te-duplicate': framingLines.push('Transfer-Encoding: chunked', 'Transfer-Encoding: identity'); wire = chunked(wire); break;
    case 'te-obs-fold': framingLines.push('Transfer-Encoding:', ' chunked'); wire = chunked(wire); break;
    case 'chunked-huge-size': framingLines.push('Transfer-Encoding: chunked'); wire = Buffer.from('fffffffffffffffffff\r\nabc\r\n0\r\n\r\n'); break;
    case 'chunked-lf-only': framingLines.push('Transfer-Encoding: chunked'); wire = chunked(wire, { lf: true }); break;
    case 'chunked-trailer': framingLines.push('Transfer-Encoding: chunked'); wire = chunked(wire, { trailer: true }); break;
    case 'expect-continue': framingLines.push('Expect: 100-continue', `Content-Length: ${wire.length}`); break;
    case 'content-encoding-gzip': framingLines.push('Content-Encoding: gzip', `Content-Length: ${wire.length}`); break;
  }
  const nl = lf ? '\n' : '\r\n';
  const head = [`${m} ${path} ${version}`, ...host, ...(useAuth ? authLines(spec.authorization, ctx) : []), ...(payload || spec.contentType !== 'json' ? ctLines(spec.contentType) : []), ...framingLines, ...lines];
  const parts = [Buffer.from(head.join(nl) + nl + nl, 'latin1')];
  if (wire.length) parts.push(wire);
  const methods = [m];
  if (pipelineHealth) {
    parts.push(Buffer.from('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    methods.push('GET');
  }
  const label = `${m.slice(0, 10)} ${routePath}${spec.pathMutation.kind !== 'asis' ? ` path:${spec.pathMutation.kind}` : ''}${spec.query ? ' +query' : ''} auth:${String(spec.authorization).slice(0, 20)} ct:${spec.contentType.slice(0, 20)} framing:${spec.framing} body:${spec.body.kind}${spec.extras.length ? ` extras:${spec.extras.join(',')}` : ''}`;
  return { bytes: Buffer.concat(parts), methods, label, truncated, authValue: spec.authorization };
}
