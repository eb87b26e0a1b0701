// The API contract, checked on every answer the tests receive from a real
// serve: the OpenAPI 3.1 document is generated from the built route table
// (the same function GET /api/openapi.json serves), validated once against
// the OpenAPI 3.1 schema by @seriousme/openapi-schema-validator, and every
// answer is matched to its operation and checked by openapi-backend (with
// Ajv's 2020-12 dialect, the one OpenAPI 3.1 schemas use):
//   - the status is one the operation documents (openapi-backend alone
//     passes an undocumented status silently, so this is checked here);
//   - a JSON answer validates against that status's schema, an error against
//     the Error schema; another media type has the documented Content-Type;
//   - every answer carries X-Request-ID.
// A request that matches no operation (404, 405, a refused path) must answer
// the Error shape. checkAnswer throws an Error naming the problem, so the
// test that received the answer fails.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import OpenAPIBackendModule from 'openapi-backend';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ROUTES } from '../../dist/server/routes/index.js';
import { openApiDocument } from '../../dist/server/contract/openapi.js';
import { wsMessagesDocument } from '../../dist/server/contract/ws-messages.js';
import { X_ERROR } from '../../dist/server/contract/json-schema.js';

const OpenAPIBackend = OpenAPIBackendModule.default ?? OpenAPIBackendModule;
const addFormats = addFormatsModule.default ?? addFormatsModule;

/** Ajv for OpenAPI 3.1 schemas: draft 2020-12, formats checked, our annotation keyword known. */
export function ajv2020(opts = {}) {
  const ajv = new Ajv2020({ allErrors: true, strict: false, ...opts });
  addFormats(ajv);
  if (!ajv.getKeyword(X_ERROR)) ajv.addKeyword({ keyword: X_ERROR });
  return ajv;
}

let ready = null;

/** The document, its validation result, the backend and the Error validator (built once per test process). */
export function contract() {
  ready ??= (async () => {
    const document = openApiDocument(ROUTES);
    const validity = await new Validator().validate(structuredClone(document));
    if (!validity.valid) throw new Error(`the generated OpenAPI document is not valid OpenAPI 3.1: ${JSON.stringify(validity.errors).slice(0, 2000)}`);
    const backend = new OpenAPIBackend({
      definition: structuredClone(document),
      strict: true,
      // Compile each operation's validators on first use (all at once costs seconds of CPU per test process).
      quick: true,
      // Ajv's 2020-12 dialect (openapi-backend's own default is draft-07).
      customizeAjv: (_ajv, ajvOpts) => ajv2020({ ...ajvOpts, strict: false }),
    });
    // Its own definition check knows OpenAPI 3.0 only; the 3.1 check above replaces it.
    backend.validateDefinition = () => backend.document;
    await backend.init();
    const errorCheck = ajv2020().compile({ ...document.components.schemas.Error, $defs: undefined });
    return { document, validity, backend, errorCheck };
  })();
  return ready;
}

const header = (headers, name) => {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};
const mediaOf = (headers) => String(header(headers, 'content-type') ?? '').split(';')[0].trim().toLowerCase();

function mediaMatches(want, got) {
  if (want === '*/*') return got !== '';
  if (want.endsWith('/*')) return got.startsWith(want.slice(0, -1));
  return want === got;
}

const describe = (errors) => errors.map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`).join('; ');

/**
 * Check one answer: {method, path (with query, relative to the server's
 * root — a sub-path prefix already removed), status, headers, text}.
 * Returns the operation id it matched (or null); throws on any mismatch.
 */
export async function checkAnswer({ method, path, status, headers, text }) {
  const { backend, errorCheck } = await contract();
  const m = String(method).toUpperCase();
  const [pathname, query = ''] = String(path).split('?');
  const where = `${m} ${String(path).slice(0, 120)} → ${status}`;
  const fail = (why) => { throw new Error(`answer not described by the OpenAPI document: ${where}: ${why}\n  body: ${String(text).slice(0, 400)}`); };
  if (!header(headers, 'x-request-id')) fail('no X-Request-ID header');
  const body = m === 'HEAD' || status === 304 || status === 204 ? undefined : text;
  let json;
  const isJson = mediaOf(headers) === 'application/json';
  if (body !== undefined && body !== '' && isJson) {
    try { json = JSON.parse(body); } catch { fail('Content-Type says JSON but the body is not JSON'); }
  }
  let op;
  try {
    op = backend.router.matchOperation({ method: m === 'HEAD' ? 'get' : m.toLowerCase(), path: pathname, query, headers: {} });
  } catch { op = undefined; }
  if (!op) {
    // Preflights are answered before routing; anything else that matches no route must be an error.
    if (m === 'OPTIONS' && status === 204) return null;
    if (status < 400) fail('a success for a request that matches no operation');
    if (body !== undefined && (!isJson || !errorCheck(json))) fail(`not the Error shape: ${describe(errorCheck.errors ?? [])}`);
    return null;
  }
  const documented = op.responses?.[String(status)];
  if (!documented) fail(`status ${status} is not documented for ${op.operationId} (documented: ${Object.keys(op.responses ?? {}).join(', ')})`);
  if (body === undefined) return op.operationId;
  const content = documented.content ?? {};
  const wants = Object.keys(content);
  if (wants.length === 0) {
    if (body !== '') fail('a body where the document says none');
    return op.operationId;
  }
  if (wants.includes('application/json')) {
    if (!isJson) fail(`Content-Type ${mediaOf(headers) || '(none)'}, the document says application/json`);
    const r = backend.validator.validateResponse(json, op, status);
    if (!r.valid) fail(describe(r.errors));
    return op.operationId;
  }
  if (!wants.some((w) => mediaMatches(w, mediaOf(headers)))) fail(`Content-Type ${mediaOf(headers) || '(none)'}, the document says ${wants.join(' or ')}`);
  return op.operationId;
}

let wsChecks = null;

/** The commands with args of their own; every other action is a PlayerCommand. */
const WS_COMMANDS = { seek: 'SeekCommand', volume: 'VolumeCommand', shuffle: 'ShuffleCommand', repeat: 'RepeatCommand', open: 'OpenCommand' };

/** Which message schema a message claims to be (by its type, topic and action). */
function wsDefOf(from, m) {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return null;
  if (from === 'server') return { status: 'StatusMessage', volume: 'VolumeMessage', audit: 'AuditMessage', result: 'ResultMessage', error: 'ErrorMessage' }[m.type] ?? null;
  if (m.type === 'subscribe') return m.topic === 'audit' ? 'SubscribeAudit' : 'SubscribeStatus';
  if (m.type === 'unsubscribe') return 'Unsubscribe';
  if (m.type === 'command') return Object.hasOwn(WS_COMMANDS, m.action) ? WS_COMMANDS[m.action] : 'PlayerCommand';
  return null;
}

/** Check one WebSocket message (a parsed object) sent by `from` ('client' | 'server'); throws naming the problem. */
export function checkWsMessage(from, message) {
  wsChecks ??= (() => {
    const ajv = ajv2020();
    ajv.addSchema(wsMessagesDocument(), 'ws');
    return (name) => ajv.getSchema(`ws#/$defs/${name}`);
  })();
  const name = wsDefOf(from, message);
  const fail = (why) => { throw new Error(`${from} WebSocket message not described by /api/ws-messages.json: ${JSON.stringify(message).slice(0, 300)}: ${why}`); };
  if (!name) fail('no message of this type');
  const check = wsChecks(name);
  if (!check(message)) fail(`as ${name}: ${describe((check.errors ?? []).slice(0, 5))}`);
  return name;
}
