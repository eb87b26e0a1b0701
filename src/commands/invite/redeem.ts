import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag } from '../../cli/flags.js';
import { inviteRedeem } from '../../cli/handlers/invite.js';

export default class InviteRedeem extends BaseCommand {
  static override summary = 'Pair this machine with a mediagate server using an invite code.';
  static override description = 'Run on the new device. Redeems the code at the server (POST /api/auth/redeem), exchanges the pairing token for a token named after this device (POST /api/auth/exchange) and prints that token once — or, with --save NAME, stores it sealed as remote profile NAME for --remote NAME (see `mediagate remote`). Without CODE it is asked for (TTY) or read from stdin. Exit 6 when the server cannot be reached, 4 when it refuses the code.';
  static override examples = [
    '<%= config.bin %> invite redeem ABCD-EFGH-JKMN-PQRS --server https://media.example.org',
    '<%= config.bin %> invite redeem --server http://127.0.0.1:8420 --name laptop --json',
    '<%= config.bin %> invite redeem ABCD-EFGH-JKMN-PQRS --server https://media.example.org --name laptop --save home',
  ];
  static override args = { code: Args.string({ description: 'the invite code (dashes, spaces and case do not matter)' }) };
  static override flags = {
    server: Flags.string({ description: 'URL of the mediagate server', required: true, helpValue: 'URL' }),
    name: Flags.string({ description: 'name for this device\'s token (default: the host name)', helpValue: 'DEVICE' }),
    save: Flags.string({ description: 'store the token sealed as remote profile NAME (for --remote NAME) instead of printing it', helpValue: 'NAME' }),
    ca: Flags.string({ description: 'CA certificate (PEM) the server\'s TLS certificate chains to', helpValue: 'FILE' }),
    'allow-plain-http': Flags.boolean({ description: 'with --save: allow http:// to a host that is not this machine' }),
    force: Flags.boolean({ description: 'with --save: replace a profile of the same name' }),
    default: Flags.boolean({ description: 'with --save: also make it the default remote' }),
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(InviteRedeem);
    await this.handle(flags.json, (ctx) => inviteRedeem(ctx, {
      code: args.code, server: flags.server, name: flags.name,
      save: flags.save, ca: flags.ca, allowPlainHttp: flags['allow-plain-http'], force: flags.force, default: flags.default,
    }));
  }
}
