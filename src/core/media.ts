/**
 * Media folders: named roots from config (`media.folders.<name>` = absolute
 * path), browsed and played through SafeJoin only.
 *
 * What callers see never contains an absolute path: folders are listed by
 * name, entries by name and relative path. `resolvePlayable` returns the
 * absolute path for handing to a player; it must not be echoed to a client.
 *
 * Errors (exit code · API status under src/server/http-error.ts's table):
 *   media.folder_not_found    2 · 404   no such folder in config
 *   media.not_found           2 · 404   nothing at that path
 *   media.path_invalid        2 · 422   malformed path (NUL, absolute, `..`, backslash, drive, UNC…)
 *   media.path_outside        2 · 422   a symbolic link leads outside the folder (or nowhere)
 *   media.not_a_directory     2 · 422   browse of a file
 *   media.not_playable        2 · 422   play of a directory or a non-audio/video file
 *   media.unreadable          2 · 422   the directory cannot be read (permissions)
 *   media.folder_unavailable  3 · 503   the root is missing (disk unmounted)
 *   media.folder_invalid      5 · 503   the configured root is not absolute
 */
import { lstatSync, readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { extname, sep } from 'node:path';
import type { Config } from './config/store.js';
import { NoPlayerError, UsageError } from './errors.js';
import type { PlayerHub } from './players/hub.js';
import { percentEncodeForSafeJoin, safeJoinDetailed } from './safe-join.js';

/** Extensions (lower case, no dot) of files a player can be asked to play. */
export const PLAYABLE_EXTENSIONS: ReadonlySet<string> = new Set([
  // audio
  'mp3', 'flac', 'ogg', 'oga', 'opus', 'm4a', 'm4b', 'aac', 'wav', 'wv', 'ape', 'mka', 'mpc', 'alac', 'aif', 'aiff', 'aifc',
  'wma', 'dsf', 'dff', 'tta', 'spx', 'mp2', 'ac3', 'dts', 'mid', 'midi', 'mod', 'xm', 's3m', 'it',
  // video
  'mkv', 'mp4', 'm4v', 'webm', 'avi', 'mov', 'wmv', 'mpg', 'mpeg', 'ts', 'm2ts', 'ogv', 'flv', '3gp',
]);

export const DEFAULT_BROWSE_LIMIT = 100;
export const MAX_BROWSE_LIMIT = 1000;
const FOLDER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export type EntryType = 'dir' | 'file';

export interface MediaEntry {
  name: string;
  /** Relative path from the folder root, in the form SafeJoin takes back (a `%` in a name is written `%25`). */
  path: string;
  type: EntryType;
  /** Bytes for files; null for directories. */
  size: number | null;
  /** An audio or video file, by extension. */
  playable: boolean;
}

export interface FolderListing {
  folder: string;
  /** The directory listed, relative to the folder root ('' for the root). */
  path: string;
  entries: MediaEntry[];
  /** Entries in the directory (after hiding dotfiles), across all pages. */
  total: number;
  offset: number;
  limit: number;
  /** Offset of the next page, or null on the last one. */
  nextOffset: number | null;
}

export interface MediaFolderInfo {
  name: string;
  /** Its root exists and is a directory right now. */
  available: boolean;
}

export interface ListOptions {
  offset?: number;
  limit?: number;
  /** Include names starting with a dot. */
  showHidden?: boolean;
}

export interface PlayableFile {
  folder: string;
  /** Normalised relative path (as in MediaEntry.path). */
  path: string;
  name: string;
  /** Absolute real path, for the player only: never send it to a client. */
  absolute: string;
}

export function isPlayableName(name: string): boolean {
  return PLAYABLE_EXTENSIONS.has(extname(name).slice(1).toLowerCase());
}

/** The configured folders, sorted by name. Roots are not disclosed. */
export function listFolders(config: Config): MediaFolderInfo[] {
  return config.childrenOf('media.folders')
    .filter(([name, root]) => FOLDER_NAME.test(name) && typeof root === 'string')
    .map(([name, root]) => {
      let available = false;
      try { available = statSync(root as string).isDirectory(); } catch { /* missing */ }
      return { name, available };
    })
    .sort((a, b) => compareNames(a.name, b.name));
}

/** The root of a folder, or `media.folder_not_found` (exit 2 / 404) naming the folders there are. */
export function folderRoot(config: Config, folder: string): string {
  const names = config.childrenOf('media.folders').map(([n]) => n);
  const root = typeof folder === 'string' && FOLDER_NAME.test(folder) && config.has(`media.folders.${folder}`)
    ? config.get<string>(`media.folders.${folder}`) : undefined;
  if (typeof root !== 'string') {
    const shownName = String(folder).replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
    throw new UsageError(`no media folder named '${shownName}'`,
      names.length ? `the folders are: ${names.sort(compareNames).join(', ')}` : 'add one with: mediagate config set media.folders.NAME /absolute/path',
      'media.folder_not_found');
  }
  return root;
}

/** Split `FOLDER[/PATH]` (the CLI form) into folder and relative path. */
export function parseMediaRef(ref: string): { folder: string; path: string } {
  const slash = ref.indexOf('/');
  return slash < 0 ? { folder: ref, path: '' } : { folder: ref.slice(0, slash), path: ref.slice(slash + 1) };
}

/**
 * Locale-independent natural order: case-insensitive, digit runs compared
 * by value ("Track 2" before "Track 10"), ties broken by code points. The
 * same on every machine whatever LANG says.
 */
export function compareNames(a: string, b: string): number {
  const ta = tokens(a);
  const tb = tokens(b);
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i]!;
    const y = tb[i]!;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = x.replace(/^0+(?=\d)/, '');
      const ny = y.replace(/^0+(?=\d)/, '');
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  if (ta.length !== tb.length) return ta.length - tb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function tokens(s: string): string[] {
  return s.normalize('NFC').toLowerCase().match(/\d+|\D+/g) ?? [];
}

function checkPaging(opts: ListOptions): { offset: number; limit: number } {
  const offset = opts.offset ?? 0;
  const limit = opts.limit ?? DEFAULT_BROWSE_LIMIT;
  if (!Number.isInteger(offset) || offset < 0) throw new UsageError(`offset must be a whole number ≥ 0 (got ${String(offset)})`, undefined, 'usage.invalid_offset');
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_BROWSE_LIMIT) {
    throw new UsageError(`limit must be a whole number from 1 to ${MAX_BROWSE_LIMIT} (got ${String(limit)})`, undefined, 'usage.invalid_limit');
  }
  return { offset, limit };
}

function notFound(folder: string, rel: string): UsageError {
  return new UsageError(`nothing at '${rel}' in folder '${folder}'`, `list it with: mediagate play browse ${folder}`, 'media.not_found');
}

function isInside(real: string, rootReal: string): boolean {
  return real === rootReal || real.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep);
}

/**
 * One page of a directory in a media folder: directories first, then files,
 * each in compareNames order; dotfiles hidden unless `showHidden`. Symbolic
 * links are listed as what they point to, and left out when they point
 * outside the folder or nowhere; sockets, devices and FIFOs are left out.
 */
export function listFolder(config: Config, folder: string, rel: string, opts: ListOptions = {}): FolderListing {
  const { offset, limit } = checkPaging(opts);
  const root = folderRoot(config, folder);
  const dir = safeJoinDetailed(root, rel, folder);
  if (!dir.exists) throw notFound(folder, dir.relative);
  if (!statSync(dir.absolute).isDirectory()) {
    throw new UsageError(`'${dir.relative}' in folder '${folder}' is a file, not a directory`,
      isPlayableName(dir.relative) ? `play it with: mediagate play file ${folder}/${dir.relative}` : undefined, 'media.not_a_directory');
  }
  const rootReal = realpathSync(root);
  let dirents: Dirent[];
  try {
    dirents = readdirSync(dir.absolute, { withFileTypes: true });
  } catch (e) {
    throw new UsageError(`cannot read '${dir.relative || '.'}' in folder '${folder}' (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
      undefined, 'media.unreadable');
  }
  const kept: Array<{ name: string; type: EntryType; full: string }> = [];
  for (const d of dirents) {
    if (!opts.showHidden && d.name.startsWith('.')) continue;
    const full = dir.absolute + (dir.absolute.endsWith(sep) ? '' : sep) + d.name;
    let type: EntryType | undefined;
    if (d.isDirectory()) type = 'dir';
    else if (d.isFile()) type = 'file';
    else if (d.isSymbolicLink()) {
      try {
        const target = realpathSync(full);
        if (!isInside(target, rootReal)) continue;
        const st = statSync(target);
        type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : undefined;
      } catch { continue; }
    }
    if (type) kept.push({ name: d.name, type, full });
  }
  kept.sort((a, b) => (a.type === b.type ? compareNames(a.name, b.name) : a.type === 'dir' ? -1 : 1));
  const page = kept.slice(offset, offset + limit);
  const prefix = dir.relative ? `${dir.relative}/` : '';
  const entries = page.map(({ name, type, full }): MediaEntry => {
    let size: number | null = null;
    if (type === 'file') {
      try { size = statSync(full).size; } catch { size = null; }
    }
    return { name, path: percentEncodeForSafeJoin(prefix + name), type, size, playable: type === 'file' && isPlayableName(name) };
  });
  const end = offset + page.length;
  return {
    folder,
    path: percentEncodeForSafeJoin(dir.relative),
    entries,
    total: kept.length,
    offset,
    limit,
    nextOffset: end < kept.length ? end : null,
  };
}

/**
 * The file at `rel` in `folder`, checked to be a regular audio/video file
 * inside the folder. Throws the media.* errors listed at the top.
 */
export function resolvePlayable(config: Config, folder: string, rel: string): PlayableFile {
  const root = folderRoot(config, folder);
  const at = safeJoinDetailed(root, rel, folder);
  if (!at.exists) throw notFound(folder, at.relative);
  const st = lstatSync(at.absolute);
  const name = at.relative.slice(at.relative.lastIndexOf('/') + 1);
  if (st.isDirectory()) {
    throw new UsageError(`cannot play '${at.relative || '.'}' in folder '${folder}': it is a directory`,
      `list it with: mediagate play browse ${folder}${at.relative ? `/${at.relative}` : ''}`, 'media.not_playable');
  }
  if (!st.isFile()) throw new UsageError(`cannot play '${at.relative}' in folder '${folder}': it is not a regular file`, undefined, 'media.not_playable');
  if (!isPlayableName(name)) {
    throw new UsageError(`cannot play '${at.relative}' in folder '${folder}': it is not an audio or video file (judged by its extension)`,
      `playable extensions: ${[...PLAYABLE_EXTENSIONS].join(' ')}`, 'media.not_playable');
  }
  return { folder, path: percentEncodeForSafeJoin(at.relative), name, absolute: at.absolute };
}

export interface PlayFileResult {
  player: string;
  folder: string;
  /** Relative path, as in MediaEntry.path. */
  path: string;
  name: string;
}

/**
 * Play `rel` from `folder` on the selected player (`player`, else the
 * default / most recently active one). The path is checked (SafeJoin,
 * regular file, playable extension) before any player is touched. A player
 * whose backend cannot open files is `player.unsupported` (exit 3 → 409).
 */
export async function playMediaFile(hub: PlayerHub, config: Config, folder: string, rel: string, player?: string): Promise<PlayFileResult> {
  const file = resolvePlayable(config, folder, rel);
  const { player: p } = await hub.select(player);
  if (typeof p.playFile !== 'function') {
    throw new NoPlayerError(`player '${p.name}' cannot play files`, 'choose another player with --player', 'player.unsupported');
  }
  const musicDir = config.has('mpd.musicDirectory') ? config.get<string>('mpd.musicDirectory') : undefined;
  await p.playFile(file.absolute, { mpdMusicDirectory: musicDir });
  return { player: p.name, folder, path: file.path, name: file.name };
}
