import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag, remoteFlag } from '../../cli/flags.js';
import { inviteRevoke } from '../../cli/handlers/invite.js';

export default class InviteRevoke extends BaseCommand {
  static override summary = 'Revoke an invite: its code stops working.';
  static override description = 'Pairings already started with it but not yet completed fail too. Tokens already handed out stay valid (revoke them with `token revoke`).';
  static override examples = ['<%= config.bin %> invite revoke inv_3q8w1m0c'];
  static override args = { id: Args.string({ description: 'invite id (inv_…)', required: true }) };
  static override flags = { remote: remoteFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(InviteRevoke);
    await this.handle(flags.json, (ctx) => inviteRevoke(ctx, args.id), flags.remote);
  }
}
