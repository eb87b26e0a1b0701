/**
 * Template values: what a variable holds and an expression yields. Each
 * carries its D-Bus type signature, because playerctl's language depends on
 * it — `mpris:length` (an int64) adds as an integer, `xesam:trackNumber`
 * (an int32) refuses arithmetic, a double prints as `3.0`, an object path
 * prints quoted. Values decoded from D-Bus keep their real signature (see
 * src/core/players/dbus-value.ts); values from JSON (MPD, a remote server,
 * mediagate's own state) get the one the MPRIS metadata specification gives
 * the key, else one inferred from the JSON type.
 */
export type Value =
  | { t: 's' | 'o' | 'g'; v: string }
  | { t: 'x' | 't'; v: bigint }
  | { t: 'y' | 'n' | 'q' | 'i' | 'u' | 'h'; v: number }
  | { t: 'd'; v: number }
  | { t: 'b'; v: boolean }
  /** A variant: the value inside. */
  | { t: 'v'; v: Value }
  /** An array (signature `a…`, not a dictionary): its elements. */
  | { t: `a${string}`; v: Value[] }
  /** A dictionary (signature `a{…}`): its entries in the order the player sent them. */
  | { t: `a{${string}`; v: Array<[Value, Value]> }
  /** A struct (signature `(…)`): its fields. */
  | { t: `(${string}`; v: Value[] };

export const str = (v: string): Value => ({ t: 's', v });
export const dbl = (v: number): Value => ({ t: 'd', v });
export const int64 = (v: bigint): Value => ({ t: 'x', v });
export const bool = (v: boolean): Value => ({ t: 'b', v });
export const strv = (v: string[]): Value => ({ t: 'as', v: v.map(str) });

export const isDict = (x: Value): x is { t: `a{${string}`; v: Array<[Value, Value]> } => x.t.startsWith('a{');
export const isArray = (x: Value): x is { t: `a${string}`; v: Value[] } => x.t.startsWith('a') && !x.t.startsWith('a{');

/** The strings of an `as` value, else undefined. */
export function stringsOf(x: Value): string[] | undefined {
  if (x.t !== 'as') return undefined;
  return (x.v as Value[]).map((e) => String(e.v));
}

/**
 * Types of the MPRIS v2 metadata keys, from freedesktop's "MPRIS v2 metadata
 * guidelines": what a value of that key is typed as when it comes from JSON
 * rather than from D-Bus.
 */
export const METADATA_SIGNATURES: Readonly<Record<string, string>> = {
  'mpris:trackid': 'o',
  'mpris:length': 'x',
  'mpris:artUrl': 's',
  'xesam:album': 's',
  'xesam:albumArtist': 'as',
  'xesam:artist': 'as',
  'xesam:asText': 's',
  'xesam:audioBPM': 'i',
  'xesam:autoRating': 'd',
  'xesam:comment': 'as',
  'xesam:composer': 'as',
  'xesam:contentCreated': 's',
  'xesam:discNumber': 'i',
  'xesam:firstUsed': 's',
  'xesam:genre': 'as',
  'xesam:lastUsed': 's',
  'xesam:lyricist': 'as',
  'xesam:title': 's',
  'xesam:trackNumber': 'i',
  'xesam:url': 's',
  'xesam:useCount': 'i',
  'xesam:userRating': 'd',
};

const INT32 = new Set(['y', 'n', 'q', 'i', 'u', 'h']);

/**
 * A JSON value (as `Player.metadata()` or a server answers it) as a typed
 * value: with `signature` (the key's MPRIS type) when it fits, else inferred —
 * string `s`, boolean `b`, integer `x`, other number `d`, strings `as`, other
 * arrays `av`, objects `a{sv}`. null is no value.
 */
export function fromJson(json: unknown, signature?: string): Value | undefined {
  if (json === null || json === undefined) return undefined;
  if (signature) {
    const typed = asSignature(json, signature);
    if (typed) return typed;
  }
  switch (typeof json) {
    case 'string': return str(json);
    case 'boolean': return bool(json);
    case 'bigint': return int64(json);
    case 'number': return Number.isSafeInteger(json) ? int64(BigInt(json)) : dbl(json);
    default: break;
  }
  if (Array.isArray(json)) {
    if (json.every((e) => typeof e === 'string')) return strv(json as string[]);
    return { t: 'av', v: json.flatMap((e) => { const x = fromJson(e); return x ? [{ t: 'v', v: x } as Value] : []; }) };
  }
  if (typeof json === 'object') {
    const entries: Array<[Value, Value]> = [];
    for (const [k, e] of Object.entries(json as Record<string, unknown>)) {
      const x = fromJson(e);
      if (x) entries.push([str(k), { t: 'v', v: x }]);
    }
    return { t: 'a{sv}', v: entries };
  }
  return undefined;
}

function asSignature(json: unknown, sig: string): Value | undefined {
  if (sig === 's' || sig === 'o') return typeof json === 'string' ? { t: sig, v: json } : undefined;
  if (sig === 'as') {
    if (typeof json === 'string') return strv([json]);
    return Array.isArray(json) && json.every((e) => typeof e === 'string') ? strv(json as string[]) : undefined;
  }
  if (sig === 'd') return typeof json === 'number' ? dbl(json) : undefined;
  if (sig === 'x') {
    if (typeof json === 'bigint') return int64(json);
    return typeof json === 'number' && Number.isFinite(json) ? int64(BigInt(Math.trunc(json))) : undefined;
  }
  if (INT32.has(sig)) return typeof json === 'number' && Number.isInteger(json) ? { t: sig as 'i', v: json } : undefined;
  return undefined;
}

/** The plain JSON of a typed value (the inverse of fromJson, losing the signature). */
export function toJson(x: Value): unknown {
  switch (x.t) {
    case 'x': case 't': {
      const n = Number(x.v as bigint);
      return Number.isSafeInteger(n) ? n : String(x.v);
    }
    case 'v': return toJson(x.v as Value);
    default: break;
  }
  if (isDict(x)) return Object.fromEntries(x.v.map(([k, e]) => [String(k.v), toJson(e)]));
  if (isArray(x) || x.t.startsWith('(')) return (x.v as Value[]).map(toJson);
  return x.v;
}
