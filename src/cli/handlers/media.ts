import { Config } from '../../core/config/store.js';
import { UsageError } from '../../core/errors.js';
import { escapeValue } from '../../core/format.js';
import { listFolder, listFolders, parseMediaRef, type FolderListing, type MediaFolderInfo } from '../../core/media.js';
import { resolveRemote } from '../../client/profiles.js';
import { out, outJson, say, type Ctx } from '../context.js';
import { table } from './format.js';
import { withController } from './players.js';
import { ignoreList } from './selection.js';

export interface BrowseFlags {
  offset?: number | undefined;
  limit?: number | undefined;
  all?: boolean | undefined;
}

export interface PlayFileFlags {
  player?: string | undefined;
  'ignore-player'?: string[] | undefined;
}

const clean = (s: string) => escapeValue(s, 'plain');

/** 1536 → `1.5K`; bytes as `ls -h` shows them. */
export function humanSize(bytes: number | null): string {
  if (bytes === null) return '';
  const units = ['', 'K', 'M', 'G', 'T'];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return i === 0 ? String(n) : `${n < 10 ? n.toFixed(1) : Math.round(n)}${units[i]}`;
}

function printListing(ctx: Ctx, l: FolderListing): void {
  if (l.entries.length === 0) {
    say(ctx, l.total === 0 ? `${l.folder}/${l.path}: empty` : `no entries from offset ${l.offset} (there are ${l.total})`);
    return;
  }
  const rows = l.entries.map((e) => [
    e.type === 'dir' ? `${clean(e.name)}/` : clean(e.name),
    e.type === 'dir' ? '' : humanSize(e.size),
    e.playable ? 'playable' : '',
  ]);
  for (const line of table(['NAME', 'SIZE', 'PLAYABLE'], rows)) out(ctx, line);
  if (l.nextOffset !== null) {
    say(ctx, `showing ${l.offset + 1}–${l.offset + l.entries.length} of ${l.total}; next page: --offset ${l.nextOffset}`);
  }
}

/**
 * The folders (no folder) or one page of a directory: from this machine's
 * config, or from the server's (GET /api/media/browse) with --remote /
 * MEDIAGATE_REMOTE / remote.default — the folders of the machine that plays.
 */
async function browseWhere(ctx: Ctx, folder: string | undefined, path: string, flags: BrowseFlags): Promise<{ folders: MediaFolderInfo[] } | FolderListing> {
  const config = Config.load(ctx.env);
  const remote = resolveRemote(ctx.remote, ctx.env, config);
  if (remote) {
    const { remoteClient, RemoteController } = await import('../../client/session.js');
    return new RemoteController(await remoteClient(config, remote, ctx.env)).browse(folder, path, flags);
  }
  if (folder === undefined) return { folders: listFolders(config) };
  return listFolder(config, folder, path, { offset: flags.offset, limit: flags.limit, showHidden: Boolean(flags.all) });
}

/** `mediagate play browse [FOLDER[/PATH]]`: the folders, or one page of a directory in one. */
export async function playBrowse(ctx: Ctx, ref: string | undefined, flags: BrowseFlags): Promise<void> {
  if (ref === undefined || ref === '') {
    const { folders } = await browseWhere(ctx, undefined, '', flags) as { folders: MediaFolderInfo[] };
    if (ctx.json) { outJson(ctx, { folders }); return; }
    if (folders.length === 0) {
      say(ctx, 'No media folders. Add one with: mediagate config set media.folders.NAME /absolute/path');
      return;
    }
    for (const f of folders) out(ctx, f.available ? f.name : `${f.name}  (unavailable: its root is missing)`);
    return;
  }
  const { folder, path } = parseMediaRef(ref);
  const listing = await browseWhere(ctx, folder, path, flags) as FolderListing;
  if (ctx.json) outJson(ctx, listing);
  else printListing(ctx, listing);
}

/** `mediagate play file FOLDER/PATH`: play one audio or video file from a media folder. */
export async function playFile(ctx: Ctx, ref: string, flags: PlayFileFlags): Promise<void> {
  const { folder, path } = parseMediaRef(ref);
  if (path.replace(/\/+$/, '') === '') {
    throw new UsageError(`'${clean(ref).slice(0, 100)}' names a folder, not a file: give FOLDER/PATH`, `list it with: mediagate play browse ${clean(folder).slice(0, 64)}`, 'usage.invalid_media_ref');
  }
  await withController(ctx, async (ctl) => {
    if (!ctl.playFile) throw new UsageError('play file is not available on this connection', 'run it on the machine that plays, without --remote', 'usage.unsupported');
    const done = await ctl.playFile(folder, path, flags.player);
    if (ctx.json) outJson(ctx, { ok: true, action: 'file', player: done.player, folder: done.folder, path: done.path, name: done.name });
    else say(ctx, `Playing ${clean(done.name)} on ${clean(done.player)}.`);
  }, { ignore: ignoreList(flags) });
}
