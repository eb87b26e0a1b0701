// What must hold for every answer the server gives an attacker: the rules
// of DESIGN.md "Errors" and "Headers", checked on raw responses.

/** A stack frame, a source position or an absolute path of this machine (not /etc: the fuzzer sends /etc/passwd itself, and a player name is echoed). */
export const LEAKY = /\n\s+at |\bat [\w$.<>]+ \([^)]*:\d+:\d+\)|\.(?:js|ts|cjs|mjs):\d+|(?:^|[\s"'(=:])\/(?:tmp|home|root|work|usr|var|proc|opt)\/|node_modules|file:\/\//;

/** 5xx answers that are deliberate: a backend or the state is unavailable, said so with Retry-After. */
export function deliberate503(res, json) {
  return res.status === 503 && json?.error && typeof json.error.code === 'string' && res.headers['retry-after'] !== undefined;
}

/**
 * Problems with one response (empty list when it holds). `sentSecrets`:
 * values the request carried that must not be echoed.
 */
export function checkResponse(res, { sentSecrets = [], method } = {}) {
  const problems = [];
  // A fuzzed request can be a well-formed WebSocket handshake: 101 switches protocols, no HTTP answer follows.
  if (res.status === 101) return problems;
  let json;
  if (res.body.length > 0) {
    try { json = JSON.parse(res.body); } catch { /* judged below */ }
  }
  if (res.status >= 500 && !deliberate503(res, json)) problems.push(`status ${res.status} ${json?.error?.code ?? ''}`.trim());
  if (res.headers['x-content-type-options'] !== 'nosniff') problems.push('no X-Content-Type-Options: nosniff');
  if (res.status >= 400 && method !== 'HEAD') {
    if (res.body.length === 0) problems.push(`${res.status} with an empty body (not a JSON error)`);
    else if (!json?.error || typeof json.error.code !== 'string' || typeof json.error.message !== 'string' || typeof json.error.requestId !== 'string') {
      problems.push(`${res.status} body is not a JSON error: ${res.body.slice(0, 80)}`);
    } else if (!/^application\/json/.test(res.headers['content-type'] ?? '')) problems.push(`${res.status} error with content-type ${res.headers['content-type']}`);
    if ((res.status === 429 || res.status === 503) && res.headers['retry-after'] === undefined) problems.push(`${res.status} without Retry-After`);
  } else if (res.body.length > 0 && json === undefined && !/^image\//.test(res.headers['content-type'] ?? '')) {
    if (isWebRemoteAnswer(res)) problems.push(...webRemoteProblems(res));
    else problems.push(`${res.status} body is not JSON: ${res.body.slice(0, 80)}`);
  }
  const leak = LEAKY.exec(res.body);
  if (leak) problems.push(`body has a stack or absolute path: …${res.body.slice(Math.max(0, leak.index - 80), leak.index + 60)}…`);
  for (const s of sentSecrets) if (s && s.length >= 8 && (res.body.includes(s) || JSON.stringify(res.headers).includes(s))) problems.push('the answer echoes a secret the request carried');
  return problems;
}

/** The web remote's pages and assets (served by `serve` too): HTML, script, style, maybe gzipped. */
const WEB_TYPES = /^(?:text\/html|text\/css|text\/javascript|application\/javascript|application\/manifest\+json)\b/;
function isWebRemoteAnswer(res) {
  return WEB_TYPES.test(res.headers['content-type'] ?? '');
}

/** A page must carry the strict page CSP and no-store; an asset is served as what it is. */
function webRemoteProblems(res) {
  const problems = [];
  if (/^text\/html/.test(res.headers['content-type'])) {
    const csp = res.headers['content-security-policy'] ?? '';
    if (!/(?:^|;\s*)script-src 'self'(?:;|$)/.test(csp) || !/frame-ancestors 'none'/.test(csp)) problems.push(`a page without the page CSP: ${csp}`);
    if (!/no-store/.test(res.headers['cache-control'] ?? '')) problems.push('a page without Cache-Control: no-store');
  }
  return problems;
}

/** Count by key into a plain object. */
export function tally(obj, key, n = 1) {
  obj[key] = (obj[key] ?? 0) + n;
}

/** {a: 3, b: 1} → "a×3 b×1", biggest first. */
export function fmtTally(obj, max = 12) {
  return Object.entries(obj).sort((x, y) => y[1] - x[1]).slice(0, max).map(([k, v]) => `${k}×${v}`).join(' ');
}

/** Run `fn` over `items` with at most `n` at once. */
export async function pool(items, n, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function mb(kb) {
  return `${(kb / 1024).toFixed(1)} MB`;
}
