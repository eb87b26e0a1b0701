/** Request fields that several routes share, and the answer helpers route contracts use. */
import type { Answer } from '../routes/types.js';
import { arr, bool, oneOfStrings, str, X_ERROR, type Schema } from './json-schema.js';

export const PLAYER: Schema = str(256, 'a player: mpd, or an MPRIS name such as mpv (default: the most recently active one)');

/** The most player names an `ignore` list takes. */
export const MAX_IGNORED = 32;

const NAME_CHARS = '[^,\\u0000-\\u001f\\u007f]';
const NAME = `${NAME_CHARS}*[^,\\s\\u0000-\\u001f\\u007f]${NAME_CHARS}*`;

/** `ignore` in a body (as --ignore-player): player names left out when choosing one. */
export const IGNORE: Schema = {
  ...arr({ ...str(256), pattern: `^${NAME}$` }, 'players to leave out when choosing one (as --ignore-player): names or aliases such as vlc.instance2'),
  maxItems: MAX_IGNORED,
  [X_ERROR]: { message: `must be a list of at most ${MAX_IGNORED} player names (1–256 printable characters each)` },
};

/** `ignore` in a query string: the same names, comma-separated. */
export const IGNORE_QUERY: Schema = {
  ...str(4096, `players to leave out when choosing one (as --ignore-player), comma-separated; at most ${MAX_IGNORED}`),
  pattern: `^${NAME}(?:,${NAME})*$`,
  [X_ERROR]: { message: `must be at most ${MAX_IGNORED} comma-separated player names (1–256 printable characters each)` },
};

/** A flag in the query string: present (empty), 1 or true; 0 or false. */
export const FLAG: Schema = { ...bool(), [X_ERROR]: { message: 'must be empty, 1, true, 0 or false' } };

export const VOLUME_TARGET: Schema = oneOfStrings(['system', 'player'], {
  description: 'the system mixer (default) or the player\'s own volume',
  [X_ERROR]: { code: 'usage.invalid_target', hint: "use 'system' or 'player'" },
});

/** A JSON answer with a named schema (contract/answers.ts). */
export function json(name: string, description?: string): Answer {
  return { json: name, ...(description ? { description } : {}) };
}
