import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag } from '../../cli/flags.js';
import { remoteUse } from '../../cli/handlers/remote.js';

export default class RemoteUse extends BaseCommand {
  static override summary = 'Choose the remote server commands go to without --remote (or --none for this machine).';
  static override description = 'Sets remote.default. Which server a command talks to: --remote NAME first, then MEDIAGATE_REMOTE, then remote.default, else this machine. `--remote local` (or MEDIAGATE_REMOTE set to "local" or to the empty string) always means this machine.';
  static override examples = ['<%= config.bin %> remote use living-room', '<%= config.bin %> remote use --none'];
  static override args = { name: Args.string({ description: 'profile name' }) };
  static override flags = { none: Flags.boolean({ description: 'no default: commands act on this machine' }), json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RemoteUse);
    await this.handle(flags.json, (ctx) => remoteUse(ctx, args.name, { none: flags.none }));
  }
}
