/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the route table:
 * each route's method, path, scope and contract (request schemas, answers,
 * its own error statuses), the named answer schemas (answers.ts) and the
 * errors every route can give (from its scope and request). Served as
 * GET /api/openapi.json; the docs (man page, README) are written from it.
 *
 * It says nothing about this server beyond the route list: no software
 * version (`info.version` is the API's version, as in the subprotocol
 * mediagate.v1), no config, no addresses or paths — `servers` is relative
 * to where the document was fetched, so it holds under a reverse proxy's
 * sub-path too.
 */
import type { ApiRoute, Answer } from '../routes/types.js';
import { ANSWER_SCHEMAS } from './answers.js';
import { ref, type Schema } from './json-schema.js';
import { DEFAULT_PARAM } from './validate.js';

export const API_VERSION = '1';
export const OPENAPI_PATH = '/api/openapi.json';
export const WS_SCHEMA_PATH = '/api/ws-messages.json';

const SCOPE_TEXT: Record<string, string> = {
  public: 'Public: no token.',
  read: 'Needs a token with the read scope (or higher).',
  control: 'Needs a token with the control scope (or admin).',
  admin: 'Needs a token with the admin scope.',
};

/** Errors any route can give, by what it is. */
const COMMON_ERRORS = {
  400: 'malformed request: a refused path, no Host header, invalid JSON or UTF-8, a body nested too deep (request.*)',
  401: 'no token, a bad, revoked or expired one (auth.*; WWW-Authenticate: Bearer)',
  403: 'the token\'s scope does not cover this route, or a cookie request failed the CSRF check',
  413: 'the body is larger than 64 KiB',
  415: 'the body is not JSON (Content-Type: application/json)',
  422: 'a field or query parameter is missing or invalid: the message names it (usage.*)',
  429: 'rate limited: too many requests from this address (Retry-After)',
  503: 'the server cannot write or read its state (state.unwritable: a full disk, wrong permissions); the details are in the server log',
} as const;

function errorsOf(route: ApiRoute): Record<number, string> {
  const req = route.contract.request ?? {};
  const out: Record<number, string> = { 400: COMMON_ERRORS[400], 429: COMMON_ERRORS[429] };
  if (route.scope !== 'public') Object.assign(out, { 401: COMMON_ERRORS[401], 403: COMMON_ERRORS[403] });
  if (req.body) Object.assign(out, { 413: COMMON_ERRORS[413], 415: COMMON_ERRORS[415], 422: COMMON_ERRORS[422] });
  if (req.query || req.params || req.body) out[422] = COMMON_ERRORS[422];
  const own = route.contract.errors ?? {};
  // Any API route that authenticates or changes something reads or writes state: a full disk is a 503 there.
  const stateful = route.path.startsWith('/api/') && (route.scope !== 'public' || route.method !== 'GET');
  const merged: Record<number, string> = { ...out, ...own };
  if (stateful) merged[503] = own[503] ? `${own[503]}; or ${COMMON_ERRORS[503]}` : COMMON_ERRORS[503];
  return merged;
}

/** `GET /api/tokens/{id}/rotate` → `getTokensIdRotate`; `/` → `getRoot`. */
export function operationId(method: string, path: string): string {
  const words = path.split('/').filter((s) => s !== '' && s !== 'api').map((s) => s.replace(/[{}]/g, '')).flatMap((s) => s.split(/[^A-Za-z0-9]+/)).filter(Boolean);
  const name = (words.length ? words : ['root']).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return `${method.toLowerCase()}${name}`;
}

function tagOf(path: string): string {
  if (!path.startsWith('/api/')) return 'web remote';
  const seg = path.split('/')[2]!;
  return ({ player: 'player', status: 'player', players: 'player', volume: 'volume', artwork: 'player', tokens: 'tokens', invites: 'invites', audit: 'audit', auth: 'pairing and auth', media: 'media', scripts: 'scripts' } as Record<string, string>)[seg] ?? 'server';
}

function answerObject(a: Answer): Record<string, unknown> {
  if ('json' in a) {
    const schema = typeof a.json === 'string' ? ref(a.json) : a.json;
    if (typeof a.json === 'string' && !(a.json in ANSWER_SCHEMAS)) throw new TypeError(`answer schema '${a.json}' is not in contract/answers.ts`);
    return { description: a.description ?? (typeof a.json === 'string' ? a.json : 'JSON'), content: { 'application/json': { schema } } };
  }
  if ('media' in a) return { description: a.description, content: { [a.media]: {} } };
  return { description: a.description };
}

const HEADERS = {
  'X-Request-ID': { $ref: '#/components/headers/X-Request-ID' },
};

function errorResponse(status: number, description: string): Record<string, unknown> {
  const headers: Record<string, unknown> = { ...HEADERS };
  if (status === 429 || status === 503) headers['Retry-After'] = { $ref: '#/components/headers/Retry-After' };
  if (status === 401) headers['WWW-Authenticate'] = { description: 'Bearer realm="mediagate"', schema: { type: 'string' } };
  return { description, headers, content: { 'application/json': { schema: ref('Error') } } };
}

function operation(route: ApiRoute): Record<string, unknown> {
  const c = route.contract;
  const req = c.request ?? {};
  const parameters: unknown[] = [];
  for (const m of route.path.matchAll(/\{([^}]+)\}/g)) {
    const name = m[1]!;
    parameters.push({ name, in: 'path', required: true, schema: req.params?.[name] ?? DEFAULT_PARAM });
  }
  for (const [name, schema] of Object.entries(req.query ?? {})) {
    const { description, ...rest } = schema as Schema & { description?: string };
    parameters.push({ name, in: 'query', required: false, ...(description ? { description } : {}), schema: rest, ...(rest.type === 'boolean' ? { allowEmptyValue: true } : {}) });
  }
  const responses: Record<string, unknown> = {};
  for (const [status, a] of Object.entries(c.answers)) responses[status] = { ...answerObject(a), headers: HEADERS };
  for (const [status, why] of Object.entries(errorsOf(route))) responses[status] = errorResponse(Number(status), why);
  const scopeText = SCOPE_TEXT[route.scope] + (route.scopeCheckedInHandler ? ` Also: ${route.scopeCheckedInHandler}.` : '');
  return {
    operationId: operationId(route.method, route.path),
    summary: c.summary,
    description: [c.description, scopeText].filter(Boolean).join('\n\n'),
    tags: [tagOf(route.path)],
    'x-mediagate-scope': route.scope,
    security: route.scope === 'public' ? [] : [{ bearer: [] }, { cookie: [] }],
    ...(parameters.length ? { parameters } : {}),
    ...(req.body ? { requestBody: { required: req.body.required !== false, content: { 'application/json': { schema: req.body.schema } } } } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document for `routes`. */
export function openApiDocument(routes: readonly ApiRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    if (!r.contract) throw new TypeError(`${r.method} ${r.path}: every route needs a contract (see routes/types.ts)`);
    (paths[r.path] ??= {})[r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: 'mediagate serve',
      version: API_VERSION,
      summary: 'Control the media playing on a machine: players, volume, media folders, scripts, pairing, tokens and the audit log.',
      description: [
        'JSON in and out. Authenticate with `Authorization: Bearer <token>`; the web remote uses its session cookie from its own pages only (X-Mediagate-CSRF: 1 and this server\'s Origin).',
        'Every error is `{"error":{"code","message","requestId","hint"?}}`; every answer carries X-Request-ID.',
        `The WebSocket /api/ws (subprotocol mediagate.v1) is described by the JSON Schemas at ${WS_SCHEMA_PATH}.`,
        '`info.version` is the version of this API, not of the software.',
      ].join('\n\n'),
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '..', description: 'this server (relative to this document, so a reverse proxy\'s sub-path is kept)' }],
    tags: [...new Set(routes.map((r) => tagOf(r.path)))].map((name) => ({ name })),
    paths,
    components: {
      schemas: ANSWER_SCHEMAS,
      headers: {
        'X-Request-ID': { description: 'this request\'s id (a safe upstream value, else a new one); also in the server log', schema: { type: 'string' } },
        'Retry-After': { description: 'seconds to wait before trying again', schema: { type: 'integer', minimum: 0 } },
      },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token: `mg_` + 43 characters (token create, or pairing). Never in a URL.' },
        cookie: {
          type: 'apiKey', in: 'cookie', name: 'mediagate',
          description: 'The web remote\'s device token (HttpOnly; named __Host-mediagate under TLS at the root, __Secure-mediagate under TLS on a sub-path). Only requests from the remote\'s own page are accepted: X-Mediagate-CSRF: 1 and this server\'s Origin.',
        },
      },
    },
    'x-mediagate-websocket': { path: '/api/ws', subprotocol: 'mediagate.v1', messages: WS_SCHEMA_PATH },
  };
}
