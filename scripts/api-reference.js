// The HTTP API and WebSocket reference lines of the docs (man page, README),
// written from the OpenAPI document and the WebSocket message schemas — the
// same documents serve publishes, generated from the route contracts — so
// the reference says what the server checks and answers, nothing typed by
// hand. Used by scripts/docs.js.

const refName = (s) => (typeof s?.$ref === 'string' ? s.$ref.split('/').pop() : null);

/** A schema in one short line: `{label, scope, expiresIn?}`, `[{…}]`, `Status | null`. */
export function shape(s, defs, depth = 0) {
  if (!s || typeof s !== 'object') return 'any';
  const name = refName(s);
  if (name) return depth === 0 && defs[name] ? shape(defs[name], defs, depth + 1) : name;
  if ('const' in s) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join('|');
  const alts = s.oneOf ?? s.anyOf;
  if (alts) return alts.map((a) => shape(a, defs, depth)).join(' | ');
  const type = Array.isArray(s.type) ? s.type.filter((t) => t !== 'null') : [s.type];
  const orNull = Array.isArray(s.type) && s.type.includes('null') ? ' | null' : '';
  if (type[0] === 'array') return `[${shape(s.items, defs, depth + 1)}]${orNull}`;
  if (type[0] === 'object' && s.properties) {
    if (depth > 1) return `{…}${orNull}`;
    const req = new Set(s.required ?? []);
    const fields = Object.entries(s.properties).map(([k, v]) => {
      const inner = 'const' in v ? `: ${JSON.stringify(v.const)}` : '';
      return `${k}${req.has(k) ? '' : '?'}${inner}`;
    });
    return `{${fields.join(', ')}}${orNull}`;
  }
  if (type[0] === 'object') return `object${orNull}`;
  const range = s.minimum !== undefined && s.maximum !== undefined ? ` ${s.minimum}–${s.maximum}` : '';
  return `${type[0] ?? 'any'}${range}${orNull}`;
}

/** Cross-field rules of a body, in words. */
function rules(s) {
  return (s.allOf ?? []).map((r) => {
    const names = (x) => x.map((b) => b.required?.[0]).filter(Boolean).join(', ');
    if (r.oneOf) return `exactly one of ${names(r.oneOf)}`;
    if (r.anyOf) return `at least one of ${names(r.anyOf)}`;
    if (r.not?.required) return `not ${r.not.required.join(' and ')} together`;
    return '';
  }).filter(Boolean);
}

/** One row per operation: {method, path, scope, summary, request, answer, errors}. */
export function routeRows(doc) {
  const defs = doc.components.schemas;
  const rows = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const req = [];
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => `${p.name}=`);
      if (query.length) req.push(`?${query.join('&')}`);
      const body = op.requestBody?.content?.['application/json']?.schema;
      if (body) req.push(`${shape(body, defs)}${rules(body).length ? ` (${rules(body).join('; ')})` : ''}${op.requestBody.required ? '' : ' (optional body)'}`);
      const answers = Object.entries(op.responses).filter(([st]) => Number(st) < 400).map(([st, r]) => {
        const json = r.content?.['application/json']?.schema;
        const media = Object.keys(r.content ?? {})[0];
        const what = json ? shape(json, defs) : media ? `${r.description} (${media})` : r.description;
        return st === '200' ? what : `${st}: ${what}`;
      });
      const errors = Object.keys(op.responses).filter((st) => Number(st) >= 400);
      rows.push({
        method: method.toUpperCase(), path, scope: op['x-mediagate-scope'] + (/Also:/.test(op.description ?? '') ? ' + the script\'s own scope' : ''),
        summary: op.summary, request: req.join(' ') || '—', answer: answers.join('; '), errors: errors.join(' '),
      });
    }
  }
  return rows;
}

/** The WebSocket messages: [[term, text]] from the message schemas. */
export function wsRows(wsDoc) {
  const defs = wsDoc.$defs;
  const list = (union) => defs[union].oneOf.map((r) => {
    const name = refName(r);
    const d = defs[name];
    const args = d.properties?.args;
    const argText = args ? ` args ${shape(args.anyOf ? args.anyOf[0] : args, defs, 1)}${args.allOf || args.anyOf?.[0]?.allOf ? ` (${rules(args.anyOf ? args.anyOf[0] : args).join('; ')})` : ''}` : '';
    const { args: _a, ...rest } = d.properties;
    return `${shape({ ...d, properties: rest }, defs, 1)}${argText}${d.description ? ` — ${d.description}` : ''}`;
  }).join(' ');
  return [
    ['Connect', wsDoc.description],
    ['Client messages', list('ClientMessage')],
    ['Server messages', list('ServerMessage')],
  ];
}
