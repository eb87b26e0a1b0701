/**
 * The one place where text from a player is made safe for where it goes.
 * Metadata is set by whatever plays (any web page, any file's tags), so it
 * can hold terminal escapes and line breaks:
 *
 * - `plain` (mediagate's own output): every control character becomes a
 *   space — a title can neither drive the terminal nor break the
 *   one-line-per-change contract of --follow;
 * - `terminal` (the playerctl mode): the same, except tab and line feed,
 *   which playerctl prints and scripts may rely on (`metadata xesam:asText`);
 * - `json`: escaped for use inside a JSON string.
 */
export type EscapeMode = 'plain' | 'json' | 'terminal';

// C0 and C1 control characters, DEL.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const CONTROL_BUT_TAB_LF = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function escapeValue(text: string, mode: EscapeMode): string {
  if (mode === 'json') return JSON.stringify(text).slice(1, -1);
  return text.replace(mode === 'terminal' ? CONTROL_BUT_TAB_LF : CONTROL, ' ');
}
