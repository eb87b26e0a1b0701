/**
 * D-Bus values as dbus-next decodes them (a Variant {signature, value};
 * 64-bit integers as BigInt, dictionaries as objects, structs as arrays,
 * byte arrays as Buffers) turned into typed template values that keep
 * their D-Bus signature (src/core/template/value.ts): the playerctl
 * dialect computes and prints by type, as playerctl does.
 */
import type { Value } from '../template/value.js';

interface VariantLike { signature: string; value: unknown }

export function isVariant(x: unknown): x is VariantLike {
  return typeof x === 'object' && x !== null && typeof (x as VariantLike).signature === 'string' && 'value' in x;
}

/** A Variant as a typed value; undefined when it cannot be read. */
export function fromVariant(v: unknown): Value | undefined {
  if (!isVariant(v)) return undefined;
  try {
    return typed(v.signature, v.value);
  } catch {
    return undefined;
  }
}

/** The length of the first complete type in `sig` from `at`. */
function typeLength(sig: string, at: number): number {
  const c = sig[at];
  if (c === 'a') return 1 + typeLength(sig, at + 1);
  if (c === '(' || c === '{') {
    const close = c === '(' ? ')' : '}';
    let i = at + 1;
    while (sig[i] !== close) {
      if (i >= sig.length) throw new Error(`bad signature ${sig}`);
      i += typeLength(sig, i);
    }
    return i + 1 - at;
  }
  if (c === undefined) throw new Error(`bad signature ${sig}`);
  return 1;
}

/** The complete types inside a struct or dict-entry signature (`(sx)` → ['s', 'x']). */
function fieldTypes(sig: string): string[] {
  const out: string[] = [];
  for (let i = 1; i < sig.length - 1;) {
    const n = typeLength(sig, i);
    out.push(sig.slice(i, i + n));
    i += n;
  }
  return out;
}

function typed(sig: string, value: unknown): Value {
  switch (sig) {
    case 's': case 'o': case 'g': return { t: sig, v: String(value) };
    case 'b': return { t: 'b', v: Boolean(value) };
    case 'x': case 't': return { t: sig, v: BigInt(value as bigint | number) };
    case 'y': case 'n': case 'q': case 'i': case 'u': case 'h': return { t: sig, v: Number(value) };
    case 'd': return { t: 'd', v: Number(value) };
    case 'v': {
      const inner = fromVariant(value);
      if (!inner) throw new Error('unreadable variant');
      return { t: 'v', v: inner };
    }
    default: break;
  }
  if (sig.startsWith('a{')) {
    const [keySig, valueSig] = fieldTypes(sig.slice(1));
    const entries = Object.entries((value ?? {}) as Record<string, unknown>)
      .map(([k, e]) => [typed(keySig!, keySig === 's' || keySig === 'o' ? k : keySig === 'x' || keySig === 't' ? BigInt(k) : Number(k)), typed(valueSig!, e)] as [Value, Value]);
    return { t: sig as `a{${string}`, v: entries };
  }
  if (sig.startsWith('a')) {
    const elementSig = sig.slice(1);
    const items = value instanceof Uint8Array ? [...value] : (value as unknown[]);
    return { t: sig as `a${string}`, v: items.map((e) => typed(elementSig, e)) };
  }
  if (sig.startsWith('(')) {
    const fields = fieldTypes(sig);
    return { t: sig as `(${string}`, v: (value as unknown[]).map((e, i) => typed(fields[i]!, e)) };
  }
  throw new Error(`unsupported signature ${sig}`);
}
