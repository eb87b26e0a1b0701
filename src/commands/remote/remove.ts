import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag } from '../../cli/flags.js';
import { remoteRemove } from '../../cli/handlers/remote.js';

export default class RemoteRemove extends BaseCommand {
  static override summary = 'Remove a remote server profile and its stored token.';
  static override description = 'Forgets the URL, token and CA of NAME here (and the default, if it was NAME). The token keeps working on the server until it is revoked there.';
  static override examples = ['<%= config.bin %> remote remove living-room'];
  static override args = { name: Args.string({ description: 'profile name', required: true }) };
  static override flags = { json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RemoteRemove);
    await this.handle(flags.json, (ctx) => remoteRemove(ctx, args.name));
  }
}
