import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag, remoteFlag } from '../../cli/flags.js';
import { tokenRevoke } from '../../cli/handlers/token.js';

export default class TokenRevoke extends BaseCommand {
  static override summary = 'Revoke an API token by id or label.';
  static override description = 'The token stops working on its next request, also in a running `mediagate serve` (within a second). A label must name exactly one live token.';
  static override examples = ['<%= config.bin %> token revoke tok_7k2m9q4x', '<%= config.bin %> token revoke kitchen-tablet'];
  static override args = { token: Args.string({ description: 'token id (tok_…) or label', required: true }) };
  static override flags = { remote: remoteFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TokenRevoke);
    await this.handle(flags.json, (ctx) => tokenRevoke(ctx, args.token), flags.remote);
  }
}
