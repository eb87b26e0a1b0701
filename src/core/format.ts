import type { PlayerState } from './players/types.js';

/**
 * playerctl-like templates: `{{artist}} - {{title}} [{{duration(position)}}]`.
 * Variables: player status title artist album duration position volume
 * shuffle repeat. Functions: duration(x) → [h:]mm:ss, lc(x), uc(x),
 * default(x, "text"), json(x) → a JSON literal.
 *
 * All escaping lives in `escapeValue`: in plain mode control characters in
 * player metadata (which any web page or file can set) are replaced, so a
 * title cannot inject terminal escapes or break the one-line-per-change
 * contract; in json mode each value is escaped for use inside a JSON string.
 */
export type EscapeMode = 'plain' | 'json';

type Value = string | number | boolean | null;

const VARS = ['player', 'status', 'title', 'artist', 'album', 'duration', 'position', 'volume', 'shuffle', 'repeat'] as const;

/** `[h:]mm:ss` from seconds. */
export function formatClock(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

// C0 and C1 control characters, DEL.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export function escapeValue(text: string, mode: EscapeMode): string {
  if (mode === 'json') return JSON.stringify(text).slice(1, -1);
  return text.replace(CONTROL, ' ');
}

function text(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(Math.round(v * 1000) / 1000);
  return String(v);
}

export class TemplateError extends Error {}

const TOKEN = /\{\{\s*(.*?)\s*\}\}/g;
const CALL = /^([a-z]+)\(\s*(.*?)\s*\)$/;
const STRING = /^"((?:[^"\\]|\\.)*)"$/;

/** Check a template once, before any output, so a typo is a usage error and not a blank line per change. */
export function compileTemplate(template: string): (state: PlayerState, mode: EscapeMode) => string {
  const parts: Array<string | ((s: PlayerState) => { value: Value; raw: boolean })> = [];
  let last = 0;
  for (const m of template.matchAll(TOKEN)) {
    parts.push(template.slice(last, m.index));
    parts.push(compileExpr(m[1]!));
    last = m.index! + m[0].length;
  }
  parts.push(template.slice(last));
  return (state, mode) =>
    parts.map((p) => {
      if (typeof p === 'string') return p;
      const { value, raw } = p(state);
      return raw ? text(value) : escapeValue(text(value), mode);
    }).join('');
}

function compileExpr(expr: string): (s: PlayerState) => { value: Value; raw: boolean } {
  const call = CALL.exec(expr);
  if (!call) {
    const v = variable(expr);
    return (s) => ({ value: v(s), raw: false });
  }
  const [, fn, argText] = call;
  const args = splitArgs(argText!);
  const arg0 = args[0] === undefined ? undefined : operand(args[0]);
  if (!arg0) throw new TemplateError(`${fn}() needs an argument`);
  switch (fn) {
    case 'duration': return (s) => ({ value: formatClock(numberOrNull(arg0(s))), raw: false });
    case 'lc': return (s) => ({ value: text(arg0(s)).toLowerCase(), raw: false });
    case 'uc': return (s) => ({ value: text(arg0(s)).toUpperCase(), raw: false });
    case 'default': {
      const fallback = args[1] === undefined ? undefined : operand(args[1]);
      if (!fallback) throw new TemplateError('default() needs two arguments');
      return (s) => { const v = arg0(s); return { value: v === null || v === '' ? fallback(s) : v, raw: false }; };
    }
    case 'json': return (s) => ({ value: JSON.stringify(arg0(s)), raw: true });
    default: throw new TemplateError(`unknown function '${fn}' (known: duration, lc, uc, default, json)`);
  }
}

function splitArgs(argText: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inString = false;
  for (let i = 0; i < argText.length; i++) {
    const c = argText[i]!;
    if (c === '\\' && inString) { cur += c + (argText[++i] ?? ''); continue; }
    if (c === '"') inString = !inString;
    if (c === ',' && !inString) { out.push(cur.trim()); cur = ''; continue; }
    cur += c;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

function operand(token: string): (s: PlayerState) => Value {
  const str = STRING.exec(token);
  if (str) { const v = JSON.parse(`"${str[1]}"`) as string; return () => v; }
  return variable(token);
}

function variable(name: string): (s: PlayerState) => Value {
  if (!(VARS as readonly string[]).includes(name)) {
    throw new TemplateError(`unknown template variable '${name}' (known: ${VARS.join(', ')})`);
  }
  return (s) => (s as unknown as Record<string, Value>)[name] ?? null;
}

function numberOrNull(v: Value): number | null {
  return typeof v === 'number' ? v : null;
}
