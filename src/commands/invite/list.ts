import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag, remoteFlag } from '../../cli/flags.js';
import { inviteList } from '../../cli/handlers/invite.js';

export default class InviteList extends BaseCommand {
  static override summary = 'List invites and their uses (never the codes).';
  static override description = 'Shows open and used-up invites; --all also expired, revoked and superseded ones.';
  static override examples = ['<%= config.bin %> invite list', '<%= config.bin %> invite list --all --json'];
  static override flags = { all: Flags.boolean({ description: 'include expired, revoked and superseded invites' }), remote: remoteFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(InviteList);
    await this.handle(flags.json, (ctx) => inviteList(ctx, { all: flags.all }), flags.remote);
  }
}
