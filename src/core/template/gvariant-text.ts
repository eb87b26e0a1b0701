/**
 * Values printed the way playerctl prints them: a string as it is, a string
 * array joined with ", ", anything else in GLib's GVariant text form
 * (g_variant_print without type annotations) — `'/org/x'` for an object
 * path, `0x07` for a byte, `3.0` for a double, `['/a', '/b']`, `<'v'>`.
 */
import { isArray, isDict, stringsOf, type Value } from './value.js';

/** What playerctl's template and `metadata KEY` print for a value. */
export function playerctlText(x: Value): string {
  const strings = stringsOf(x);
  if (strings) return strings.join(', ');
  if (x.t === 's') return x.v as string;
  return gvariantText(x);
}

/** GLib's g_variant_print(value, FALSE). */
export function gvariantText(x: Value): string {
  switch (x.t) {
    case 's': case 'o': case 'g': return quote(x.v as string);
    case 'b': return x.v ? 'true' : 'false';
    case 'y': return `0x${(x.v as number).toString(16).padStart(2, '0')}`;
    case 'n': case 'q': case 'i': case 'u': return String(x.v);
    case 'h': return `handle ${x.v as number}`;
    case 'x': case 't': return String(x.v);
    case 'd': return doubleText(x.v as number);
    case 'v': return `<${gvariantText(x.v as Value)}>`;
    default: break;
  }
  if (isDict(x)) return `{${x.v.map(([k, e]) => `${gvariantText(k)}: ${gvariantText(e)}`).join(', ')}}`;
  if (isArray(x)) return `[${x.v.map(gvariantText).join(', ')}]`;
  const fields = x.v as Value[];
  return fields.length === 1 ? `(${gvariantText(fields[0]!)},)` : `(${fields.map(gvariantText).join(', ')})`;
}

/**
 * A double as GLib prints it: C's `%.17g`, with `.0` appended when that has
 * neither a point nor an exponent (`10` → `10.0`, `0.1` → `0.10000000000000001`).
 */
export function doubleText(d: number): string {
  const g = printfG17(d);
  return /[.en]/.test(g) ? g : `${g}.0`;
}

/** C's printf("%.17g"). */
export function printfG17(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (!Number.isFinite(d)) return d > 0 ? 'inf' : '-inf';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const [mantissa, expText] = d.toExponential(16).split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 17) {
    const m = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const fixed = d.toFixed(16 - exp);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

/** C's printf("%f"): six decimals (playerctl's `position` and `volume` output). */
export function printfF(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (!Number.isFinite(d)) return d > 0 ? 'inf' : '-inf';
  const text = Math.abs(d) < 1e21 ? d.toFixed(6) : BigInt(Math.trunc(d)).toString() + '.000000';
  return Object.is(d, -0) ? `-${text}` : text;
}

const ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\' };

/** A string in GVariant text form: single quotes unless it holds ' and no ", escapes as GLib writes them. */
function quote(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === q) out += `\\${q}`;
    else if (ESCAPES[ch]) out += ESCAPES[ch];
    else if (!printable(cp)) out += cp > 0xffff ? `\\U${cp.toString(16).padStart(8, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + q;
}

/** Roughly g_unichar_isprint: not a control, format, surrogate or unassigned character. */
function printable(cp: number): boolean {
  return !/[\p{Cc}\p{Cs}\p{Cn}\p{Co}]/u.test(String.fromCodePoint(cp)) || cp === 0x20;
}
