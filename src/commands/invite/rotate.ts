import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag, remoteFlag } from '../../cli/flags.js';
import { inviteRotate } from '../../cli/handlers/invite.js';

export default class InviteRotate extends BaseCommand {
  static override summary = 'Give an invite a new code (shown once); uses start again from 0.';
  static override description = 'Keeps the id, label, scope and expiry. The old code stops working.';
  static override examples = ['<%= config.bin %> invite rotate inv_3q8w1m0c', '<%= config.bin %> invite rotate inv_3q8w1m0c --qr'];
  static override args = { id: Args.string({ description: 'invite id (inv_…)', required: true }) };
  static override flags = { qr: Flags.boolean({ description: 'also draw the link as a QR code in the terminal (on stdout; not with --json)' }), remote: remoteFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(InviteRotate);
    await this.handle(flags.json, (ctx) => inviteRotate(ctx, args.id, { qr: flags.qr }), flags.remote);
  }
}
