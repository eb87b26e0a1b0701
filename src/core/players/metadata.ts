/**
 * Raw track metadata as players report it (`play metadata`), made JSON-safe,
 * and the few readings every backend takes from it. Pure: no I/O.
 */
import type { Metadata, MetadataValue, QueueEntry } from './types.js';

/** Nesting deeper than this is cut off (null): no player sends it, a hostile one must not make us recurse forever. */
const MAX_DEPTH = 16;

function isVariant(v: object): v is { signature: string; value: unknown } {
  return 'signature' in v && 'value' in v && typeof (v as { signature: unknown }).signature === 'string';
}

/**
 * One D-Bus value (as dbus-next decodes it: Variants, bigints for 64-bit
 * integers, Buffers for byte arrays, plain objects for dictionaries) as a
 * JSON value: variants unwrapped, 64-bit integers as numbers, bytes as a
 * number array, non-finite numbers as null.
 */
export function jsonSafe(v: unknown, depth = 0): MetadataValue {
  if (depth > MAX_DEPTH) return null;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'bigint':
      return Number(v);
    case 'object': {
      if (v === null) return null;
      if (isVariant(v)) return jsonSafe(v.value, depth + 1);
      if (v instanceof Uint8Array) return [...v];
      if (Array.isArray(v)) return v.map((x) => jsonSafe(x, depth + 1));
      const out: Record<string, MetadataValue> = {};
      for (const [k, x] of Object.entries(v)) out[k] = jsonSafe(x, depth + 1);
      return out;
    }
    default:
      return null;
  }
}

/** A metadata dictionary (MPRIS `a{sv}`) as Metadata; anything but an object is {}. */
export function metadataOf(dict: unknown): Metadata {
  const value = jsonSafe(dict);
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

/** A value as one line of text, as playerctl prints it: lists joined with ", ", nothing for null. */
export function metadataText(v: MetadataValue | undefined): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map((x) => metadataText(x)).filter((x) => x !== '').join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function text(v: MetadataValue | undefined): string | null {
  const s = metadataText(v);
  return s === '' ? null : s;
}

/** Microseconds (a number, as `mpris:length` is) to seconds, to the millisecond; null when not a positive number. */
export function lengthSeconds(v: MetadataValue | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.round(v / 1000) / 1000 : null;
}

/**
 * One queue entry from the metadata of a track (MPRIS TrackList, or MPD's
 * mapped onto the same names). `id` is the player's own id for it (default:
 * `mpris:trackid`).
 */
export function queueEntryOf(position: number, meta: Metadata, current: boolean, id?: string | null): QueueEntry {
  const trackId = meta['mpris:trackid'];
  return {
    position,
    id: id !== undefined ? id : typeof trackId === 'string' ? trackId : null,
    title: text(meta['xesam:title']),
    artist: text(meta['xesam:artist']),
    album: text(meta['xesam:album']),
    duration: lengthSeconds(meta['mpris:length']),
    uri: text(meta['xesam:url']),
    current,
  };
}
