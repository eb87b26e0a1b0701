import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag, remoteFlag } from '../../cli/flags.js';
import { playBrowse } from '../../cli/handlers/media.js';

export default class PlayBrowse extends BaseCommand {
  static override summary = 'List media folders, or the files in one.';
  static override description = `Without an argument: the configured media folders (config media.folders.NAME = absolute path of its root). With FOLDER[/PATH]: one page of that directory, directories first, then files, in natural name order (the same on every machine), with sizes and whether each file can be played (audio or video, by extension). Names starting with a dot are hidden unless --all is given.

Paths are relative to the folder. They are percent-decoded once (a name containing % is written %25); absolute paths, .., backslashes, drive letters and symbolic links leading outside the folder are refused (exit 2). An unknown folder is exit 2 and names the folders there are.

--json prints {folders: [{name, available}]} without an argument, else {folder, path, entries: [{name, path, type: "dir"|"file", size, playable}], total, offset, limit, nextOffset}; an entry's path can be given back to browse or to play file.

With --remote NAME (or MEDIAGATE_REMOTE) the folders listed are the server's (GET /api/media/browse), the ones its play file can play.`;
  static override examples = [
    '<%= config.bin %> play browse',
    '<%= config.bin %> play browse music',
    "<%= config.bin %> play browse 'music/Miles Davis/Kind of Blue' --json",
    '<%= config.bin %> play browse music --offset 100 --limit 100',
  ];
  static override args = { ref: Args.string({ description: 'FOLDER or FOLDER/PATH to list', required: false }) };
  static override flags = {
    offset: Flags.integer({ description: 'skip this many entries (paging)', min: 0, helpValue: 'N' }),
    limit: Flags.integer({ description: 'show at most this many entries (1–1000, default 100)', min: 1, max: 1000, helpValue: 'N' }),
    all: Flags.boolean({ char: 'a', description: 'also show names starting with a dot' }),
    remote: remoteFlag,
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(PlayBrowse);
    await this.handle(flags.json, (ctx) => playBrowse(ctx, args.ref, { offset: flags.offset, limit: flags.limit, all: flags.all }), flags.remote);
  }
}
