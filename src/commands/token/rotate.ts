import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag, remoteFlag } from '../../cli/flags.js';
import { tokenRotate } from '../../cli/handlers/token.js';

export default class TokenRotate extends BaseCommand {
  static override summary = 'Give a token a new secret (shown once); the old one stops working.';
  static override description = 'Keeps the id, label, scope and expiry.';
  static override examples = ['<%= config.bin %> token rotate tok_7k2m9q4x', '<%= config.bin %> token rotate tok_7k2m9q4x --json'];
  static override args = { id: Args.string({ description: 'token id (tok_…)', required: true }) };
  static override flags = { remote: remoteFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TokenRotate);
    await this.handle(flags.json, (ctx) => tokenRotate(ctx, args.id), flags.remote);
  }
}
