/** Request fields that several routes share, and the answer helpers route contracts use. */
import type { Answer } from '../routes/types.js';
import { bool, oneOfStrings, str, X_ERROR, type Schema } from './json-schema.js';

export const PLAYER: Schema = str(256, 'a player: mpd, or an MPRIS name such as mpv (default: the most recently active one)');

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
