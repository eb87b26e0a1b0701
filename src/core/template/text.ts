/** Text helpers the template functions of both dialects share. */

/** GLib's g_markup_escape_text: the five XML specials as entities, other control characters as &#x…;. */
export function markupEscape(s: string): string {
  let out = '';
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    switch (c) {
      case '&': out += '&amp;'; break;
      case '<': out += '&lt;'; break;
      case '>': out += '&gt;'; break;
      case "'": out += '&apos;'; break;
      case '"': out += '&quot;'; break;
      default:
        if ((cp >= 0x1 && cp <= 0x8) || cp === 0xb || cp === 0xc || (cp >= 0xe && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x84) || (cp >= 0x86 && cp <= 0x9f)) {
          out += `&#x${cp.toString(16)};`;
        } else out += c;
    }
  }
  return out;
}

export const ELLIPSIS = '…';

/** The first `n` characters (code points) of `s`. */
export function firstChars(s: string, n: number): string {
  return [...s].slice(0, Math.max(0, n)).join('');
}

/** Characters in the first `maxBytes` bytes of the UTF-8 form (a character cut by the limit is not counted): g_utf8_strlen(s, max). */
export function charsWithinBytes(s: string, maxBytes: number): number {
  let bytes = 0;
  let n = 0;
  for (const c of s) {
    bytes += Buffer.byteLength(c);
    if (bytes > maxBytes) break;
    n++;
  }
  return n;
}

/** emoji(status): the three playback states. */
export const STATUS_EMOJI: Readonly<Record<'playing' | 'paused' | 'stopped', string>> = {
  playing: '\u25b6\ufe0f',
  paused: '\u23f8\ufe0f',
  stopped: '\u23f9\ufe0f',
};

/** emoji(volume) for a level from 0 to 1: a speaker with one, two or three waves. */
export function volumeEmoji(level: number): string {
  if (level < 0.3333) return '\u{1f508}';
  if (level < 0.6666) return '\u{1f509}';
  return '\u{1f50a}';
}
