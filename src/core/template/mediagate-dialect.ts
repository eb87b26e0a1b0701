/**
 * mediagate's own `--format` dialect: playerctl's grammar and functions
 * over mediagate's names and units — `status` is `playing`, `position` and
 * `duration` are seconds, `volume` is 0–100 — plus every metadata key the
 * player reports (`xesam:url`, `mpris:length` in microseconds, as the player
 * gives them). Everything that could fail is refused before any output
 * (a TemplateError, a usage error): unknown functions and variables, wrong
 * argument counts. Expanding never fails: an operation on values that do not
 * fit (a number and nothing, a division by zero) expands to nothing, and `+`
 * joins text when either side is text.
 */
import { formatClock } from '../clock.js';
import type { PlayerState } from '../players/types.js';
import type { Metadata } from '../players/types.js';
import { TemplateError, type Expr, type Part } from './parse.js';
import { Template, type Dialect, type Lookup } from './template.js';
import { ELLIPSIS, firstChars, markupEscape, STATUS_EMOJI, volumeEmoji } from './text.js';
import { bool, dbl, fromJson, isArray, isDict, METADATA_SIGNATURES, str, toJson, type Value } from './value.js';

/** The variables of mediagate's own templates (besides metadata keys). */
export const MEDIAGATE_VARIABLES = ['player', 'status', 'title', 'artist', 'album', 'duration', 'position', 'volume', 'shuffle', 'repeat'] as const;

const ARITY: Readonly<Record<string, number>> = {
  duration: 1, lc: 1, uc: 1, default: 2, json: 1, emoji: 1, trunc: 2, markup_escape: 1,
};
const OPERATORS = new Set(['+', '-', '*', '/']);

function numberOf(x: Value | undefined): number | undefined {
  if (!x) return undefined;
  if (x.t === 'v') return numberOf(x.v as Value);
  if (x.t === 'x' || x.t === 't') return Number(x.v);
  return typeof x.v === 'number' ? x.v : undefined;
}

function text(x: Value): string {
  switch (x.t) {
    case 's': case 'o': case 'g': return x.v as string;
    case 'b': return x.v ? 'true' : 'false';
    case 'x': case 't': return String(x.v);
    case 'v': return text(x.v as Value);
    default: break;
  }
  if (typeof x.v === 'number') return String(Math.round(x.v * 1000) / 1000);
  if (isDict(x)) return JSON.stringify(toJson(x));
  if (isArray(x)) return x.v.map(text).join(', ');
  return JSON.stringify(toJson(x));
}

const isEmpty = (x: Value | undefined): boolean => x === undefined || text(x) === '';

function arithmetic(op: string, a: Value | undefined, b: Value | undefined): Value | undefined {
  if (b === undefined) {
    const n = numberOf(a);
    return n === undefined ? undefined : dbl(op === '-' ? -n : n);
  }
  const textual = (x: Value | undefined): boolean => x !== undefined && numberOf(x) === undefined;
  if (op === '+' && (textual(a) || textual(b))) return str((a ? text(a) : '') + (b ? text(b) : ''));
  const x = numberOf(a);
  const y = numberOf(b);
  if (x === undefined || y === undefined) return undefined;
  switch (op) {
    case '+': return dbl(x + y);
    case '-': return dbl(x - y);
    case '*': return dbl(x * y);
    default: return y === 0 ? undefined : dbl(x / y);
  }
}

function check(parts: Part[]): void {
  const walk = (e: Expr): void => {
    if (e.kind === 'variable') {
      if (!e.name.includes(':') && !(MEDIAGATE_VARIABLES as readonly string[]).includes(e.name)) {
        throw new TemplateError(`unknown template variable '${e.name}' (known: ${MEDIAGATE_VARIABLES.join(', ')}, and metadata keys such as xesam:url)`);
      }
      return;
    }
    if (e.kind !== 'call') return;
    if (!OPERATORS.has(e.name)) {
      const n = ARITY[e.name];
      if (n === undefined) throw new TemplateError(`unknown function '${e.name}' (known: ${Object.keys(ARITY).join(', ')})`);
      if (e.args.length !== n) throw new TemplateError(`${e.name}() takes ${n === 1 ? 'one argument' : `${n} arguments`}, not ${e.args.length}`);
      if (e.name === 'emoji' && e.args[0]!.kind !== 'variable') throw new TemplateError('emoji() takes a variable (status or volume)');
      if (e.name === 'trunc' && e.args[1]!.kind === 'string') throw new TemplateError('trunc() takes a number of characters as its second argument');
    }
    e.args.forEach(walk);
  };
  for (const p of parts) if ('expr' in p) walk(p.expr);
}

export const MEDIAGATE_DIALECT: Dialect = {
  text,
  check,
  raw: (e) => e.kind === 'call' && e.name === 'json',
  call(name, args, exprs) {
    const [a, b] = args;
    switch (name) {
      case 'duration': { const n = numberOf(a); return n === undefined ? undefined : str(formatClock(n)); }
      case 'lc': return str(a ? text(a).toLowerCase() : '');
      case 'uc': return str(a ? text(a).toUpperCase() : '');
      case 'default': return isEmpty(a) ? b : a;
      case 'json': return str(JSON.stringify(a === undefined ? null : toJson(a)));
      case 'markup_escape': return str(a ? markupEscape(text(a)) : '');
      case 'trunc': {
        if (!a) return undefined;
        const n = numberOf(b);
        const t = text(a);
        if (n === undefined || n < 0 || [...t].length <= n) return str(t);
        return str(firstChars(t, Math.trunc(n)) + ELLIPSIS);
      }
      case 'emoji': {
        const key = (exprs[0] as { name: string }).name;
        if (!a) return undefined;
        if (key === 'status' && a.t === 's') return str(STATUS_EMOJI[a.v as keyof typeof STATUS_EMOJI] ?? (a.v as string));
        const n = numberOf(a);
        if (key === 'volume' && n !== undefined) return str(volumeEmoji(n / 100));
        return a;
      }
      default: return arithmetic(name, a, b);
    }
  },
};

/** A template in mediagate's dialect; TemplateError (a usage error) when it is malformed or names something unknown. */
export function mediagateTemplate(source: string): Template {
  return new Template(source, MEDIAGATE_DIALECT);
}

/** The variables of one player's state; metadata keys from `metadata` (Player.metadata()) when given. */
export function mediagateVariables(s: PlayerState, metadata?: Metadata): Lookup {
  const of = (v: unknown): Value | undefined => {
    if (v === null || v === undefined) return undefined;
    if (typeof v === 'number') return dbl(v);
    if (typeof v === 'boolean') return bool(v);
    return str(String(v));
  };
  return (name) => {
    if (name.includes(':')) return metadata ? fromJson(metadata[name], METADATA_SIGNATURES[name]) : undefined;
    return of((s as unknown as Record<string, unknown>)[name]);
  };
}
