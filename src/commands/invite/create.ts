import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag, remoteFlag } from '../../cli/flags.js';
import { inviteCreate } from '../../cli/handlers/invite.js';

export default class InviteCreate extends BaseCommand {
  static override summary = 'Create an invite code for pairing a device (shown once).';
  static override description = 'Prints the code (XXXX-XXXX-XXXX-XXXX) and a link that carries it in the fragment (<base>/connect#code=…; base: server.publicUrl, else the address of the running serve). Opened on a phone — scan --qr — the link pairs the browser as a web remote. Each redemption gives the device a token of this scope. A new invite for a label replaces that label\'s open one. Uses: 1–100 (default 5); expiry: up to 30d (default 1d).';
  static override examples = [
    '<%= config.bin %> invite create --label family --scope control',
    '<%= config.bin %> invite create --label guest --scope read --uses 1 --expires 2h --qr',
  ];
  static override flags = {
    label: Flags.string({ description: 'what the invite is for (1–64 characters)', required: true, helpValue: 'LABEL' }),
    scope: Flags.string({ description: 'scope of the tokens it hands out: read, control or admin', required: true, helpValue: 'read|control|admin' }),
    uses: Flags.string({ description: 'how many devices may redeem it (1–100, default 5)', helpValue: 'N' }),
    expires: Flags.string({ description: 'how long it can be redeemed: 90m, 12h, 1d (default), up to 30d', helpValue: 'DURATION' }),
    qr: Flags.boolean({ description: 'also draw the link as a QR code in the terminal (on stdout; not with --json)' }),
    remote: remoteFlag,
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(InviteCreate);
    await this.handle(flags.json, (ctx) => inviteCreate(ctx, { label: flags.label, scope: flags.scope, uses: flags.uses, expires: flags.expires, qr: flags.qr }), flags.remote);
  }
}
