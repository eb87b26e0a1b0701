/**
 * D-Bus type signatures (`a{sv}`, `(ox)`, `as`…) parsed into a small tree the
 * codec walks. Limits are the specification's: a signature is at most 255
 * characters, arrays and structs nest at most 32 deep each.
 */
import { WireError } from './errors.js';

export type TypeCode = 'y' | 'b' | 'n' | 'q' | 'i' | 'u' | 'x' | 't' | 'd' | 'h' | 's' | 'o' | 'g' | 'v';

export type WireType =
  | { kind: TypeCode }
  | { kind: 'a'; of: WireType }
  | { kind: '{'; key: WireType; value: WireType }
  | { kind: '('; fields: WireType[] };

const BASIC = new Set<string>(['y', 'b', 'n', 'q', 'i', 'u', 'x', 't', 'd', 'h', 's', 'o', 'g']);
const MAX_SIGNATURE = 255;
const MAX_NESTING = 32;

const cache = new Map<string, WireType[]>();

/** The complete types of a signature, in order (`ssv` → three). Throws WireError for an invalid one. */
export function parseSignature(sig: string): WireType[] {
  const known = cache.get(sig);
  if (known) return known;
  if (sig.length > MAX_SIGNATURE) throw new WireError(`signature longer than ${MAX_SIGNATURE} characters`);
  let at = 0;
  const one = (arrays: number, structs: number): WireType => {
    const c = sig[at++];
    if (c === undefined) throw new WireError(`signature "${sig}" ends too early`);
    if (BASIC.has(c) || c === 'v') return { kind: c as TypeCode };
    if (c === 'a') {
      if (arrays >= MAX_NESTING) throw new WireError(`signature "${sig}" nests arrays too deep`);
      if (sig[at] === '{') {
        at++;
        const key = one(arrays + 1, structs);
        if (!BASIC.has(key.kind)) throw new WireError(`signature "${sig}": a dictionary key must be a basic type`);
        const value = one(arrays + 1, structs);
        if (sig[at++] !== '}') throw new WireError(`signature "${sig}": a dictionary entry has exactly two types`);
        return { kind: 'a', of: { kind: '{', key, value } };
      }
      return { kind: 'a', of: one(arrays + 1, structs) };
    }
    if (c === '(') {
      if (structs >= MAX_NESTING) throw new WireError(`signature "${sig}" nests structs too deep`);
      const fields: WireType[] = [];
      while (sig[at] !== ')') {
        if (at >= sig.length) throw new WireError(`signature "${sig}" has an unclosed struct`);
        fields.push(one(arrays, structs + 1));
      }
      at++;
      if (fields.length === 0) throw new WireError(`signature "${sig}" has an empty struct`);
      return { kind: '(', fields };
    }
    throw new WireError(`signature "${sig}" has an invalid type code "${c}"`);
  };
  const types: WireType[] = [];
  while (at < sig.length) types.push(one(0, 0));
  if (cache.size < 256) cache.set(sig, types);
  return types;
}

/** The one complete type a variant's signature must hold. */
export function singleType(sig: string): WireType {
  const types = parseSignature(sig);
  if (types.length !== 1) throw new WireError(`variant signature "${sig}" is not a single complete type`);
  return types[0]!;
}

/** Alignment of a type on the wire, in bytes. */
export function alignOf(t: WireType): number {
  switch (t.kind) {
    case 'y': case 'g': case 'v': return 1;
    case 'n': case 'q': return 2;
    case 'x': case 't': case 'd': case '(': case '{': return 8;
    default: return 4;
  }
}
