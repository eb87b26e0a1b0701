/**
 * Small builders for JSON Schema (draft 2020-12, the dialect of OpenAPI
 * 3.1): what the route table declares for each request and answer. They
 * return plain schema objects — the same objects the server validates
 * requests with (contract/validate.ts) and the OpenAPI document publishes
 * (contract/openapi.ts). No second description of a field anywhere.
 *
 * `X_ERROR` marks a cross-field rule (a subschema of `allOf`) or a field
 * with the error code and message to answer when it fails; clients reading
 * the document may ignore it (an `x-` keyword is an annotation).
 */
export type Schema = { readonly [k: string]: unknown };

export const X_ERROR = 'x-mediagate-error';
export interface RuleError { code?: string; message?: string; hint?: string }

type Doc = { description?: string; [X_ERROR]?: RuleError; examples?: unknown[] };

function withDoc(s: Record<string, unknown>, doc: Doc | string | undefined): Schema {
  if (doc === undefined) return s;
  if (typeof doc === 'string') return { ...s, description: doc };
  return { ...s, ...doc };
}

/** A non-empty string of at most `max` characters. */
export function str(max: number, doc?: Doc | string): Schema {
  return withDoc({ type: 'string', minLength: 1, maxLength: max }, doc);
}

/** Any string (answers: names, messages). */
export function text(doc?: Doc | string): Schema {
  return withDoc({ type: 'string' }, doc);
}

/** One of these strings. */
export function oneOfStrings(values: readonly string[], doc?: Doc | string): Schema {
  return withDoc({ type: 'string', enum: [...values] }, doc);
}

export function int(min?: number, max?: number, doc?: Doc | string): Schema {
  return withDoc({ type: 'integer', ...(min !== undefined ? { minimum: min } : {}), ...(max !== undefined ? { maximum: max } : {}) }, doc);
}

export function num(min?: number, max?: number, doc?: Doc | string): Schema {
  return withDoc({ type: 'number', ...(min !== undefined ? { minimum: min } : {}), ...(max !== undefined ? { maximum: max } : {}) }, doc);
}

export function bool(doc?: Doc | string): Schema {
  return withDoc({ type: 'boolean' }, doc);
}

/** An ISO 8601 time. */
export function time(doc?: Doc | string): Schema {
  return withDoc({ type: 'string', format: 'date-time' }, doc);
}

/** `schema` or null. */
export function nullable(schema: Schema): Schema {
  const t = schema.type;
  if (typeof t === 'string') {
    const { enum: values, ...rest } = schema as { enum?: unknown[] } & Record<string, unknown>;
    return { ...rest, type: [t, 'null'], ...(values ? { enum: [...values, null] } : {}) };
  }
  return { anyOf: [schema, { type: 'null' }] };
}

export function arr(items: Schema, doc?: Doc | string): Schema {
  return withDoc({ type: 'array', items }, doc);
}

/**
 * An object. Every property in `required` must be there; others are
 * optional. Unknown properties are allowed (fields are additive) unless
 * `closed`.
 */
export function obj(props: Record<string, Schema>, required: readonly string[] = [], opts: Doc & { closed?: boolean; rules?: Schema[] } = {}): Schema {
  const { closed, rules, ...doc } = opts;
  for (const r of required) if (!(r in props)) throw new TypeError(`required property '${r}' is not described`);
  return withDoc({
    type: 'object',
    properties: props,
    ...(required.length ? { required: [...required] } : {}),
    ...(closed ? { additionalProperties: false } : {}),
    ...(rules?.length ? { allOf: rules } : {}),
  }, Object.keys(doc).length ? doc : undefined);
}

/** A map of string keys to `values`. */
export function dict(values: Schema, doc?: Doc | string): Schema {
  return withDoc({ type: 'object', additionalProperties: values }, doc);
}

/** Cross-field rule: exactly one of `fields`. */
export function exactlyOne(fields: readonly string[], error: RuleError): Schema {
  return { oneOf: fields.map((f) => ({ required: [f] })), [X_ERROR]: error };
}

/** Cross-field rule: at least one of `fields`. */
export function atLeastOne(fields: readonly string[], error: RuleError): Schema {
  return { anyOf: fields.map((f) => ({ required: [f] })), [X_ERROR]: error };
}

/** Cross-field rule: not all of `fields` together. */
export function notTogether(fields: readonly string[], error: RuleError): Schema {
  return { not: { required: [...fields] }, [X_ERROR]: error };
}

/** A reference to a named answer schema (components.schemas). */
export function ref(name: string): Schema {
  return { $ref: `#/components/schemas/${name}` };
}
