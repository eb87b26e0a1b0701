/**
 * Request checks from the route contracts: each route's body, query and
 * path-parameter schemas compiled once (Ajv, JSON Schema 2020-12 — the
 * dialect OpenAPI 3.1 publishes; conf already loads the same Ajv, so this
 * costs serve no extra module) and turned into the API's own error answers:
 *
 *   - a field of the wrong type or out of range: 422 `usage.invalid_field`
 *     (or the field's own code), "invalid field 'level': must be a whole
 *     number from 0 to 100" — the text comes from the field's schema, so the
 *     message and the document cannot disagree;
 *   - a missing field: 422 "missing field 'label'";
 *   - a cross-field rule (exactly one of…, not both…): 422 with the rule's
 *     own code and message (`x-mediagate-error`);
 *   - a query parameter: the same, "invalid query parameter 'limit': …".
 *
 * Unknown body fields and query parameters are ignored (fields are
 * additive); `null` in a top-level scalar field counts as absent (an object
 * field, such as a script's params, must be an object). A query parameter
 * given twice is refused (which one was meant cannot be told).
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { UsageError } from '../../core/errors.js';
import type { ApiRoute, RouteContract } from '../routes/types.js';
import { X_ERROR, type RuleError, type Schema } from './json-schema.js';

/** A request its contract refuses (422); `input` is what was sent (the body as parsed, or the query values). */
export class ContractError extends UsageError {
  constructor(message: string, hint: string | undefined, code: string, readonly input: Readonly<Record<string, unknown>> = {}) {
    super(message, hint, code);
  }
}

export interface RouteChecks {
  /** The body as the contract takes it (nulls dropped), or a 422. */
  body(value: Record<string, unknown>): Record<string, unknown>;
  /** The declared query parameters, converted and checked. */
  query(q: URLSearchParams): Record<string, unknown>;
  /** The path parameters, checked. */
  params(p: Record<string, string>): void;
  /** Whether an empty body stands for {}. */
  readonly bodyOptional: boolean;
  readonly hasBody: boolean;
}

/** A path parameter without a schema of its own. */
export const DEFAULT_PARAM: Schema = { type: 'string', minLength: 1, maxLength: 256 };

type Props = Record<string, Schema>;
type Where = 'field' | 'query parameter' | 'path parameter';

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, validateFormats: false });
  ajv.addKeyword({ keyword: X_ERROR, schemaType: 'object' });
  return ajv;
}

const fmt = (n: unknown): string => (typeof n === 'number' && n < 0 ? `−${-n}` : String(n));

/** What a value of `s` must be, in words (the tail of "invalid field 'x': …"). */
export function describeSchema(s: Schema): string {
  const rule = s[X_ERROR] as RuleError | undefined;
  if (rule?.message) return rule.message;
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  const range = (what: string): string => {
    const { minimum: min, maximum: max } = s as { minimum?: number; maximum?: number };
    if (min !== undefined && max !== undefined) return `must be ${what} from ${fmt(min)} to ${fmt(max)}`;
    if (min !== undefined) return `must be ${what} of at least ${fmt(min)}`;
    if (max !== undefined) return `must be ${what} of at most ${fmt(max)}`;
    return `must be ${what}`;
  };
  if (Array.isArray(s.enum)) return `must be one of: ${s.enum.filter((v) => v !== null).join(', ')}`;
  switch (t) {
    case 'integer': return range('a whole number');
    case 'number': return range('a number');
    case 'boolean': return 'must be true or false';
    case 'string': return s.maxLength !== undefined ? `must be a non-empty string of at most ${s.maxLength} characters` : 'must be a string';
    case 'object': return s.additionalProperties && typeof s.additionalProperties === 'object' ? 'must be an object of text values' : 'must be an object';
    case 'array': return 'must be a list';
    default: return 'is not valid here';
  }
}

function unescapePointer(p: string): string {
  return p.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** The one error answer for Ajv's errors against object schema `schema`. */
function answerFor(errors: readonly ErrorObject[], schema: Schema, where: Where, input: Record<string, unknown>): ContractError {
  const props = (schema.properties ?? {}) as Props;
  const fieldOf = (e: ErrorObject): string | null => {
    const m = /^#\/properties\/([^/]+)\//.exec(e.schemaPath);
    return m ? unescapePointer(m[1]!) : null;
  };
  const failed = new Set(errors.map(fieldOf).filter((f): f is string => f !== null));
  for (const name of Object.keys(props)) {
    if (!failed.has(name)) continue;
    const field = props[name]!;
    const rule = field[X_ERROR] as RuleError | undefined;
    return new ContractError(`invalid ${where} '${name}': ${describeSchema(field)}`, rule?.hint, rule?.code ?? 'usage.invalid_field', input);
  }
  const missing = errors.find((e) => e.keyword === 'required' && e.schemaPath === '#/required');
  if (missing) return new ContractError(`missing ${where} '${String(missing.params.missingProperty)}'`, undefined, 'usage.invalid_field', input);
  const rules = (schema.allOf ?? []) as Schema[];
  for (const e of errors) {
    const m = /^#\/allOf\/(\d+)/.exec(e.schemaPath);
    const rule = m ? rules[Number(m[1])]?.[X_ERROR] as RuleError | undefined : undefined;
    if (rule) return new ContractError(rule.message ?? 'the request does not fit this endpoint', rule.hint, rule.code ?? 'usage.invalid_field', input);
  }
  return new ContractError(`the request does not fit this endpoint: ${errors[0]?.message ?? 'invalid'}`, undefined, 'usage.invalid_field', input);
}

/** Query text → the JSON type the parameter's schema declares (left as text when it does not convert). */
function fromText(raw: string, s: Schema): unknown {
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  if (t === 'integer') return /^-?\d{1,15}$/.test(raw) ? Number(raw) : raw;
  if (t === 'number') return /^-?\d{1,15}(\.\d{1,15})?$/.test(raw) ? Number(raw) : raw;
  if (t === 'boolean') return raw === '' || raw === '1' || raw === 'true' ? true : raw === '0' || raw === 'false' ? false : raw;
  return raw;
}

function objectOf(props: Readonly<Record<string, Schema>>, required: readonly string[] = []): Schema {
  return { type: 'object', properties: props, ...(required.length ? { required: [...required] } : {}) };
}

function compileOne(ajv: Ajv2020, schema: Schema, where: string): ValidateFunction {
  try {
    return ajv.compile(schema as object);
  } catch (e) {
    throw new TypeError(`${where}: invalid schema: ${(e as Error).message}`);
  }
}

function checksFor(ajv: Ajv2020, route: ApiRoute): RouteChecks {
  const where = `${route.method} ${route.path}`;
  const c: RouteContract | undefined = route.contract;
  if (!c || typeof c !== 'object' || typeof c.summary !== 'string' || !c.answers || Object.keys(c.answers).length === 0) {
    throw new TypeError(`${where}: every route needs a contract (summary, request and answer schemas; see routes/types.ts)`);
  }
  const bodySchema = c.request?.body?.schema;
  if (bodySchema && bodySchema.type !== 'object') throw new TypeError(`${where}: a body schema must describe an object`);
  const body = bodySchema ? compileOne(ajv, bodySchema, `${where} body`) : null;
  const objectFields = new Set(Object.entries((bodySchema?.properties ?? {}) as Props).filter(([, s]) => s.type === 'object').map(([k]) => k));
  const querySchemas = c.request?.query ?? {};
  const querySchema = objectOf(querySchemas);
  const query = Object.keys(querySchemas).length ? compileOne(ajv, querySchema, `${where} query`) : null;
  const names = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  for (const n of Object.keys(c.request?.params ?? {})) if (!names.includes(n)) throw new TypeError(`${where}: no path parameter {${n}}`);
  const paramSchema = objectOf(Object.fromEntries(names.map((n) => [n, c.request?.params?.[n] ?? DEFAULT_PARAM])), names);
  const params = names.length ? compileOne(ajv, paramSchema, `${where} params`) : null;
  return {
    hasBody: body !== null,
    bodyOptional: c.request?.body?.required === false,
    body(value) {
      if (!body) throw new Error(`${where} reads a body but its contract declares none`);
      const v: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(value)) if (x !== null || objectFields.has(k)) v[k] = x;
      if (!body(v)) throw answerFor(body.errors ?? [], bodySchema!, 'field', v);
      return v;
    },
    query(q) {
      if (!query) return {};
      const v: Record<string, unknown> = {};
      for (const [name, s] of Object.entries(querySchemas)) {
        const all = q.getAll(name);
        if (all.length === 0) continue;
        if (all.length > 1) throw new UsageError(`query parameter '${name}' is given more than once`, undefined, 'usage.invalid_field');
        v[name] = fromText(all[0]!, s);
      }
      if (!query(v)) throw answerFor(query.errors ?? [], querySchema, 'query parameter', v);
      return v;
    },
    params(p) {
      if (params && !params(p)) throw answerFor(params.errors ?? [], paramSchema, 'path parameter', p);
    },
  };
}

/** Compile every route's contract; throws TypeError naming a route without one, or with a schema that does not compile. */
export function compileContracts(routes: readonly ApiRoute[]): Map<ApiRoute, RouteChecks> {
  const ajv = newAjv();
  return new Map(routes.map((r) => [r, checksFor(ajv, r)]));
}
