/**
 * SafeJoin: the one place where a user-supplied relative path meets a named
 * root on disk (media folders; anything else that serves files later).
 *
 *   safeJoin('/srv/music', 'Albums/a.flac', 'music')  →  '/srv/music/Albums/a.flac' (real path)
 *
 * The path is percent-decoded exactly once (`%2e%2e` is `..`; `%252e` stays
 * the literal name `%2e`), then refused when it holds a NUL, a backslash, a
 * drive letter, a UNC prefix, an absolute path or a `..` segment. The
 * remaining segments are walked from the root's real path one at a time with
 * lstat: every symbolic link met on the way is resolved with realpath and
 * must land inside the root (a sibling that merely shares the root's prefix,
 * `/music2` for `/music`, does not count). The first segment that does not
 * exist ends the walk: the rest is appended as is, so a not-yet-existing path
 * under an escaping link is refused too, because the link itself was checked.
 *
 * Errors name the folder and the relative path only: never the root or any
 * other absolute path (also not when the caller typed one).
 */
import { lstatSync, realpathSync } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';
import { ConfigError, NoPlayerError, UsageError } from './errors.js';

/** Longest relative path accepted, in characters (PATH_MAX is 4096). */
export const MAX_RELATIVE_PATH = 4096;

/**
 * Error codes of SafeJoin, and what the API should answer:
 * `media.path_invalid` and `media.path_outside` (exit 2 → 422), `media.folder_unavailable`
 * (exit 3 → 503), `media.folder_invalid` (exit 5).
 */
export type SafeJoinCode = 'media.path_invalid' | 'media.path_outside' | 'media.folder_unavailable' | 'media.folder_invalid';

/** A path refused by SafeJoin (exit 2): malformed, or leading outside the root. */
export class PathRefusedError extends UsageError {
  constructor(message: string, code: 'media.path_invalid' | 'media.path_outside', hint?: string) {
    super(message, hint, code);
  }
}

export interface SafeJoinResult {
  /** Absolute real path (symlinks inside the root resolved). Internal use only: never show it. */
  absolute: string;
  /** The normalised relative path (`/`-separated, no `.`/empty segments; '' is the root itself). */
  relative: string;
  /** Whether the whole path exists (false: `absolute` is the real existing prefix + the missing rest). */
  exists: boolean;
}

/** Printable, short form of user input for an error message. */
function shown(text: string): string {
  // eslint-disable-next-line no-control-regex
  const s = text.replace(/[\u0000-\u001f\u007f]/g, '?');
  return s.length > 200 ? `${s.slice(0, 199)}…` : s;
}

/**
 * Decode `%XX` sequences exactly once into UTF-8 text. A `%` not followed by
 * two hex digits stays literal (`100% pure.mp3` works). Decoded bytes that
 * are not valid UTF-8 are refused.
 */
export function percentDecodeOnce(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < text.length;) {
    if (text[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 3;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    for (const b of enc.encode(ch)) bytes.push(b);
    i += ch.length;
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
}

/** Encode a relative path so that percentDecodeOnce gives it back (only `%` needs it). */
export function percentEncodeForSafeJoin(relative: string): string {
  return relative.replace(/%/g, '%25');
}

function isInside(real: string, rootReal: string): boolean {
  if (real === rootReal) return true;
  const prefix = rootReal.endsWith(sep) ? rootReal : rootReal + sep;
  return real.startsWith(prefix);
}

/**
 * Check and normalise the relative path (after one percent-decoding); returns
 * its segments. Exported for tests and for callers that only need the check.
 */
export function relativeSegments(input: string, folder: string, scrub: (message: string) => string = (m) => m): string[] {
  const invalid = (why: string, echo = true) => new PathRefusedError(
    scrub(echo ? `path '${shown(input)}' in folder '${folder}' ${why}` : `the path given for folder '${folder}' ${why}`),
    'media.path_invalid',
    'give a path relative to the folder, with / between names',
  );
  if (typeof input !== 'string') throw invalid('is not text', false);
  if (input.length > MAX_RELATIVE_PATH) throw invalid(`is too long (over ${MAX_RELATIVE_PATH} characters)`, false);
  if (input.includes('\0')) throw invalid('contains a NUL character', false);
  let text: string;
  try {
    text = percentDecodeOnce(input);
  } catch {
    throw invalid('is not valid UTF-8 after percent-decoding');
  }
  if (text.includes('\0')) throw invalid('contains a NUL character', false);
  // Absolute forms: never echoed, since the text is itself an absolute path.
  if (text.startsWith('/')) throw invalid('is absolute: give a path relative to the folder', false);
  if (/^[A-Za-z]:/.test(text)) throw invalid('starts with a drive letter', false);
  if (text.includes('\\')) {
    throw invalid(text.startsWith('\\\\') ? 'is a UNC path' : 'contains a backslash: use / between names', false);
  }
  const segments = text.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) throw invalid("contains '..': it must stay inside the folder");
  if (segments.some((s) => Buffer.byteLength(s) > 255)) throw invalid('has a name longer than 255 bytes');
  return segments;
}

/**
 * Join `rel` under `root` (an absolute path from config) safely; see the file
 * comment. `folder` names the root in messages. Throws PathRefusedError
 * (exit 2) or, when the root itself is missing, `media.folder_unavailable`.
 */
export function safeJoinDetailed(root: string, rel: string, folder: string): SafeJoinResult {
  if (typeof root !== 'string' || !isAbsolute(root)) {
    throw new ConfigError(`media folder '${folder}' has no absolute root`,
      `set it with: mediagate config set media.folders.${folder} /absolute/path`, 'media.folder_invalid');
  }
  let rootReal: string;
  try {
    rootReal = realpathSync(root);
  } catch {
    throw new NoPlayerError(`media folder '${folder}' is not available: its root cannot be opened`,
      `check that the disk is mounted and the folder exists (mediagate config get media.folders.${folder})`, 'media.folder_unavailable');
  }
  // Whatever the caller typed, a message never carries the root's absolute path.
  const roots = [...new Set([rootReal, resolve(root), root])].filter((r) => r.length > 1).sort((a, b) => b.length - a.length);
  const scrub = (m: string) => roots.reduce((acc, r) => acc.split(r).join(`<${folder}>`), m);
  const segments = relativeSegments(rel, folder, scrub);
  const relative = segments.join('/');
  const outside = (upTo: number) => new PathRefusedError(
    scrub(`path '${shown(segments.slice(0, upTo + 1).join('/'))}' in folder '${folder}' leads outside the folder (through a symbolic link)`),
    'media.path_outside',
  );

  let current = rootReal;
  for (let i = 0; i < segments.length; i++) {
    const candidate = current === sep ? sep + segments[i]! : current + sep + segments[i]!;
    let st;
    try {
      st = lstatSync(candidate);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        // Nothing on disk from here on: the rest cannot be a link.
        const absolute = [candidate, ...segments.slice(i + 1)].join(sep);
        return { absolute, relative, exists: false };
      }
      throw new PathRefusedError(scrub(`path '${shown(relative)}' in folder '${folder}' cannot be read (${code ?? 'error'})`), 'media.path_invalid');
    }
    if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = realpathSync(candidate);
      } catch {
        // A dangling link (or a loop): its target is nothing we could check.
        throw new PathRefusedError(scrub(`path '${shown(segments.slice(0, i + 1).join('/'))}' in folder '${folder}' is a broken symbolic link`),
          'media.path_outside');
      }
      if (!isInside(target, rootReal)) throw outside(i);
      current = target;
    } else {
      current = candidate;
    }
  }
  // Final check on the whole path (a link swapped in meanwhile is caught here).
  try {
    const finalReal = realpathSync(current);
    if (!isInside(finalReal, rootReal)) throw outside(segments.length - 1);
    current = finalReal;
  } catch (e) {
    if (e instanceof PathRefusedError) throw e;
    return { absolute: current, relative, exists: false };
  }
  return { absolute: current, relative, exists: true };
}

/** The absolute real path of `rel` under `root` (see safeJoinDetailed). */
export function safeJoin(root: string, rel: string, folder: string): string {
  return safeJoinDetailed(root, rel, folder).absolute;
}
