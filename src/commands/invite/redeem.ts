import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag } from '../../cli/flags.js';
import { inviteRedeem } from '../../cli/handlers/invite.js';

export default class InviteRedeem extends BaseCommand {
  static override summary = 'Pair this machine with a mediagate server using an invite code.';
  static override description = `Run on the new device. Redeems the code at the server (POST /api/auth/redeem), exchanges the pairing token for a token named after this device (POST /api/auth/exchange) and stores that token sealed as a remote profile for --remote NAME (see \`mediagate remote\`): named by --save NAME, else after the server's host (media.example.org → media-example-org, with -2, -3 … when taken). When no default remote is set yet, the new profile becomes it (said on stderr). The token is never printed, unless --print-token asks for it instead of storing it.

Storing refuses plain http:// to a host that is not this machine unless --allow-plain-http. Without CODE it is asked for (TTY) or read from stdin. Exit 6 when the server cannot be reached, 4 when it refuses the code.`;
  static override examples = [
    '<%= config.bin %> invite redeem ABCD-EFGH-JKMN-PQRS --server https://media.example.org --name laptop',
    '<%= config.bin %> invite redeem ABCD-EFGH-JKMN-PQRS --server https://media.example.org --name laptop --save home',
    '<%= config.bin %> invite redeem --server http://127.0.0.1:8420 --name laptop --json',
    '<%= config.bin %> invite redeem ABCD-EFGH-JKMN-PQRS --server https://media.example.org --name script --print-token',
  ];
  static override args = { code: Args.string({ description: 'the invite code (dashes, spaces and case do not matter)' }) };
  static override flags = {
    server: Flags.string({ description: 'URL of the mediagate server', required: true, helpValue: 'URL' }),
    name: Flags.string({ description: 'name for this device\'s token (default: the host name)', helpValue: 'DEVICE' }),
    save: Flags.string({ description: 'name of the remote profile the token is stored in (default: from the server\'s host name)', helpValue: 'NAME' }),
    'print-token': Flags.boolean({ description: 'print the token once instead of storing it (nothing is saved)' }),
    ca: Flags.string({ description: 'CA certificate (PEM) the server\'s TLS certificate chains to', helpValue: 'FILE' }),
    'allow-plain-http': Flags.boolean({ description: 'store a profile for http:// to a host that is not this machine' }),
    force: Flags.boolean({ description: 'with --save NAME: replace a profile of that name' }),
    default: Flags.boolean({ description: 'make the new profile the default remote even when another one is' }),
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(InviteRedeem);
    await this.handle(flags.json, (ctx) => inviteRedeem(ctx, {
      code: args.code, server: flags.server, name: flags.name,
      save: flags.save, printToken: flags['print-token'], ca: flags.ca, allowPlainHttp: flags['allow-plain-http'], force: flags.force, default: flags.default,
    }));
  }
}
