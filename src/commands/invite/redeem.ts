import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag } from '../../cli/flags.js';
import { inviteRedeem } from '../../cli/handlers/invite.js';

export default class InviteRedeem extends BaseCommand {
  static override summary = 'Pair this machine with a mediagate server using an invite code.';
  static override description = 'Run on the new device. Redeems the code at the server (POST /api/auth/redeem), exchanges the pairing token for a token named after this device (POST /api/auth/exchange) and prints that token once. Without CODE it is asked for (TTY) or read from stdin. Exit 6 when the server cannot be reached, 4 when it refuses the code.';
  static override examples = [
    '<%= config.bin %> invite redeem ABCD-EFGH-JKMN-PQRS --server https://media.example.org',
    '<%= config.bin %> invite redeem --server http://127.0.0.1:8420 --name laptop --json',
  ];
  static override args = { code: Args.string({ description: 'the invite code (dashes, spaces and case do not matter)' }) };
  static override flags = {
    server: Flags.string({ description: 'URL of the mediagate server', required: true, helpValue: 'URL' }),
    name: Flags.string({ description: 'name for this device\'s token (default: the host name)', helpValue: 'DEVICE' }),
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(InviteRedeem);
    await this.handle(flags.json, (ctx) => inviteRedeem(ctx, { code: args.code, server: flags.server, name: flags.name }));
  }
}
