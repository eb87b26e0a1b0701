// Request ids and the audit log's redaction: an id the server makes up must
// reach the audit line unchanged (so an answer's X-Request-ID finds its
// line), while a token-shaped id a client sends is still redacted there.
import t from 'tap';
import { newRequestId, requestIdFrom, SAFE_REQUEST_ID } from '../dist/server/request-id.js';
import { sanitizeEvent, REDACTED } from '../dist/core/audit/sanitize.js';

const actor = { id: 'token:abc', label: 'test' };
const audited = (requestId) => sanitizeEvent({ actor, action: 'player.toggle', outcome: 'ok', requestId }, new Date(0).toISOString(), { redacted: 0 }).requestId;

t.test('allowed: every generated id is safe, distinct, and reaches the audit line unchanged', async (t) => {
  const N = 200_000;
  const ids = Array.from({ length: N }, () => newRequestId());
  t.same(ids.filter((id) => !SAFE_REQUEST_ID.test(id) || id.length !== 12), [], 'all 12 safe characters');
  t.equal(new Set(ids).size, N, 'no id twice');
  // The deterministic part: `_` is what let an id look like `mg_…` (a bearer token's shape).
  t.same(ids.filter((id) => id.includes('_')), [], 'no id holds `_`');
  t.same(ids.filter((id) => audited(id) !== id), [], 'the sanitizer leaves every one of them as it is');
  // Ids with `mg_` inside, as base64url made them about once in 250,000 requests before.
  for (const shaped of ['mg_Q3v9kR2aZ', 'x-mg_abcdefg', 'mgp_a1b2c3d4']) t.match(audited(shaped), REDACTED, `${shaped} would have been redacted`);
});

t.test('denied: a client-sent id shaped like a token is echoed but redacted in the audit line', async (t) => {
  const sent = 'mg_0123456789abcdef';
  t.equal(requestIdFrom(sent), sent, 'it is a safe id, so it is kept for the answer');
  t.equal(audited(sent), REDACTED, 'the audit line never holds it');
  t.not(requestIdFrom('two, ids'), 'two, ids', 'an unsafe id is replaced by a fresh one');
});
