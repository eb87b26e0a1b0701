/** What playerctl's metadata command prints, escaped for the terminal (escapeValue, the one place). */
import { escapeValue } from '../../core/format.js';
import { playerctlText } from '../../core/template/gvariant-text.js';
import { isArray, type Value } from '../../core/template/value.js';
import type { PlayerctlState } from './player.js';

const safe = (text: string): string => escapeValue(text, 'terminal');
/** C's %-Ns: padded to `width` bytes. */
const pad = (text: string, width: number): string => text + ' '.repeat(Math.max(0, width - Buffer.byteLength(text)));

/**
 * `metadata` without a key: one line per value — `NAME  KEY  VALUE`, the
 * name padded to 5 and the key to 25 — an array giving a line per element
 * (none when empty), a variant shown by what it holds.
 */
export function metadataListing(state: PlayerctlState): string {
  const lines: string[] = [];
  const name = pad(safe(state.name), 5);
  for (const [key, value] of state.metadata) {
    const inner: Value = value.t === 'v' ? value.v as Value : value;
    const items = isArray(inner) ? inner.v : [inner];
    for (const item of items) lines.push(`${name} ${pad(safe(key), 25)} ${safe(playerctlText(item))}`);
  }
  return lines.join('\n');
}

/** `metadata KEY`: the value as templates print it; undefined when the player has no such key. */
export function metadataValue(state: PlayerctlState, key: string): string | undefined {
  const found = state.metadata.find(([k]) => k === key);
  return found ? safe(playerctlText(found[1])) : undefined;
}
