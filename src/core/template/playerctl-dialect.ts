/**
 * playerctl 2.4's template dialect: its functions, its arithmetic on D-Bus
 * types (int64 stays int64, anything with a double is a double, other types
 * are refused), its variables and units (microseconds, volume 0–1,
 * `Playing`, `None`/`Track`/`Playlist`) and its messages, checked against
 * playerctl 2.4.1 itself (test/playerctl-diff.test.js). Like playerctl, it
 * reports a bad function or type while expanding, not when parsing.
 */
import { playerctlText } from './gvariant-text.js';
import { Template, TemplateRuntimeError, type Dialect, type Lookup } from './template.js';
import { charsWithinBytes, ELLIPSIS, firstChars, markupEscape, STATUS_EMOJI, volumeEmoji } from './text.js';
import { bool, dbl, int64, str, type Value } from './value.js';
import type { Expr } from './parse.js';

export type PlayerctlStatus = 'Playing' | 'Paused' | 'Stopped';
export type PlayerctlLoop = 'None' | 'Track' | 'Playlist';

/** One player as playerctl sees it: its properties (undefined: the player does not have it) and its metadata. */
export interface PlayerctlSnapshot {
  /** `mpv`: the name without an `.instance…` suffix. */
  name: string;
  /** `mpv.instance1234`: the whole name. */
  instance: string;
  status?: PlayerctlStatus | undefined;
  loop?: PlayerctlLoop | undefined;
  shuffle?: boolean | undefined;
  /** 0–1 (more when the player allows it). */
  volume?: number | undefined;
  /** Microseconds. */
  position?: bigint | undefined;
  /** Every metadata entry, in the order the player gave them. */
  metadata: Array<[string, Value]>;
}

const fail = (message: string): never => { throw new TemplateRuntimeError(message); };
const sig = (x: Value | undefined): string => x?.t ?? '(null)';
const isNumber = (x: Value | undefined): x is Value & { t: 'x' | 't' | 'd' } => x !== undefined && (x.t === 'x' || x.t === 't' || x.t === 'd');
const asDouble = (x: Value & { t: 'x' | 't' | 'd' }): number => Number(x.v);
const overflow = (r: bigint): boolean => BigInt.asIntN(64, r) !== r;

function arity(name: string, args: unknown[], n: number, label = name): void {
  if (args.length === n) return;
  const count = n === 1 ? 'exactly one argument' : 'exactly two arguments';
  fail(`function ${label} takes ${count} (got ${args.length})`);
}

/** A value as an int64 the way C converts it (duration()). */
function toInt64(x: Value): bigint {
  if (x.t === 'x') return x.v as bigint;
  if (x.t === 't') return BigInt.asIntN(64, x.v as bigint);
  const d = x.v as number;
  if (!Number.isFinite(d)) return d > 0 ? (1n << 63n) - 1n : -(1n << 63n);
  return BigInt.asIntN(64, BigInt(Math.trunc(d)));
}

/** C's "%02" PRId64. */
const two = (n: bigint): string => (n >= 0n && n < 10n ? `0${n}` : String(n));

function duration(us: bigint): string {
  const seconds = (us / 1_000_000n) % 60n;
  const minutes = (us / 1_000_000n / 60n) % 60n;
  const hours = us / 1_000_000n / 60n / 60n;
  return hours !== 0n ? `${hours}:${two(minutes)}:${two(seconds)}` : `${minutes}:${two(seconds)}`;
}

function truncate(text: string, length: number): string {
  const n = Number.isFinite(length) ? Math.trunc(length) : length > 0 ? Number.MAX_SAFE_INTEGER : -2;
  if (n === -1) return text;
  if (n < -1) return '';
  const cut = firstChars(text, n);
  // playerctl compares the lengths of the first 256 bytes only.
  return charsWithinBytes(cut, 256) < charsWithinBytes(text, 256) ? cut + ELLIPSIS : cut;
}

function emoji(value: Value, expr: Expr): Value {
  if (expr.kind !== 'variable') fail('the emoji function can only be called with a variable');
  const key = (expr as { name: string }).name;
  if (key === 'status' && value.t === 's') {
    const e = STATUS_EMOJI[(value.v as string).toLowerCase() as keyof typeof STATUS_EMOJI];
    if (e) return str(e);
  } else if (key === 'volume' && value.t === 'd') {
    return str(volumeEmoji(value.v as number));
  }
  return value;
}

function add(op: '+' | '-', a: Value | undefined, b: Value | undefined): Value {
  if (!a || !b) fail(`Got unsupported operand type for ${op}: NULL`);
  if (!isNumber(a) || !isNumber(b)) fail(`Got unsupported operand types for ${op}: '${a!.t}' and '${b!.t}'`);
  const x = a as Value & { t: 'x' | 't' | 'd' };
  const y = b as Value & { t: 'x' | 't' | 'd' };
  if (x.t === 'x' && y.t === 'x') {
    const r = op === '+' ? (x.v as bigint) + (y.v as bigint) : (x.v as bigint) - (y.v as bigint);
    if (overflow(r)) fail('Numeric overflow detected');
    return int64(r);
  }
  return dbl(op === '+' ? asDouble(x) + asDouble(y) : asDouble(x) - asDouble(y));
}

function multiply(op: '*' | '/', a: Value | undefined, b: Value | undefined): Value {
  if (!isNumber(a) || !isNumber(b)) fail(`Got unsupported operand types for ${op}: '${sig(a)}' and '${sig(b)}'`);
  const x = a as Value & { t: 'x' | 't' | 'd' };
  const y = b as Value & { t: 'x' | 't' | 'd' };
  if (x.t === 'x' && y.t === 'x') {
    const p = x.v as bigint;
    const q = y.v as bigint;
    if (op === '*') {
      // playerctl 2.4.1's overflow test (q / p != q) refuses nearly every product of two integers; so do we.
      if (p !== 0n && q / p !== q) fail('Numeric overflow detected');
      return int64(BigInt.asIntN(64, p * q));
    }
    if (q === 0n) fail('Divide by zero error');
    return int64(BigInt.asIntN(64, p / q));
  }
  if (op === '*') return dbl(asDouble(x) * asDouble(y));
  if (asDouble(y) === 0) fail('Divide by zero error');
  return dbl(asDouble(x) / asDouble(y));
}

function unary(op: string, a: Value | undefined): Value {
  if (op === '+') {
    if (!isNumber(a)) fail(`Got unsupported operand type for unary +: '${sig(a)}'`);
    return a!;
  }
  if (a?.t === 'x') return int64(BigInt.asIntN(64, -(a.v as bigint)));
  if (a?.t === 'd') return dbl(-(a.v as number));
  return fail(`Got unsupported operand type for unary -: '${sig(a)}'`);
}

export const PLAYERCTL_DIALECT: Dialect = {
  text: playerctlText,
  check() { /* playerctl finds these while expanding */ },
  call(name, args, exprs) {
    const [a, b] = args;
    switch (name) {
      case 'lc': case 'uc': {
        arity(name, args, 1);
        if (!a) return str('');
        const t = playerctlText(a);
        return str(name === 'lc' ? t.toLowerCase() : t.toUpperCase());
      }
      case 'duration':
        // sic: playerctl names the wrong function in this message.
        arity(name, args, 1, 'uc');
        if (!a) return str('');
        if (a.t !== 'x' && a.t !== 't' && a.t !== 'd') fail('function duration can only be called on track position values');
        return str(duration(toInt64(a)));
      case 'markup_escape':
        arity(name, args, 1);
        return str(a ? markupEscape(playerctlText(a)) : '');
      case 'default':
        arity(name, args, 2);
        if (!a) return b;
        return a.t === 's' && a.v === '' ? b : a;
      case 'emoji':
        arity(name, args, 1);
        return a ? emoji(a, exprs[0]!) : str('');
      case 'trunc':
        arity(name, args, 2);
        if (!a || !b) return str('');
        if (b.t !== 'd') fail("function trunc's length parameter can only be called with an int");
        return str(truncate(playerctlText(a), b.v as number));
      case '+': case '-':
        return args.length === 1 ? unary(name, a) : add(name, a, b);
      case '*': case '/':
        return multiply(name, a, b);
      default:
        return fail(`unknown template function: ${name}`);
    }
  },
};

/** A template in playerctl's dialect; TemplateError when it does not parse. */
export function playerctlTemplate(source: string): Template {
  return new Template(source, PLAYERCTL_DIALECT);
}

/**
 * The variables playerctl gives a template: with `withMetadata` (the
 * metadata command) every metadata key and the short names title, artist
 * and album; always playerName, playerInstance, shuffle, status, loop,
 * volume and position — each unless a metadata key of that name exists,
 * and with playerctl's value when the player lacks the property.
 */
export function playerctlVariables(p: PlayerctlSnapshot, withMetadata: boolean): Lookup {
  const vars = new Map<string, Value>(withMetadata ? p.metadata : []);
  const alias = (short: string, key: string): void => {
    const v = vars.get(key);
    if (!vars.has(short) && v) vars.set(short, v);
  };
  if (withMetadata) {
    alias('artist', 'xesam:artist');
    alias('album', 'xesam:album');
    alias('title', 'xesam:title');
  }
  const standard: Array<[string, Value]> = [
    ['playerName', str(p.name)],
    ['playerInstance', str(p.instance)],
    ['shuffle', bool(p.shuffle ?? false)],
    ['status', str(p.status ?? 'Playing')],
    ['loop', str(p.loop ?? 'None')],
    ['volume', dbl(p.volume ?? 0)],
    ['position', int64(p.position ?? 0n)],
  ];
  for (const [k, v] of standard) if (!vars.has(k)) vars.set(k, v);
  return (name) => vars.get(name);
}
