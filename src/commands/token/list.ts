import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag, remoteFlag } from '../../cli/flags.js';
import { tokenList } from '../../cli/handlers/token.js';

export default class TokenList extends BaseCommand {
  static override summary = 'List API tokens (never their secrets).';
  static override description = 'Shows id, label, scope, creation, expiry and when each token was last used. Revoked tokens only with --all.';
  static override examples = ['<%= config.bin %> token list', '<%= config.bin %> token list --all --json'];
  static override flags = { all: Flags.boolean({ description: 'include revoked tokens' }), remote: remoteFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(TokenList);
    await this.handle(flags.json, (ctx) => tokenList(ctx, { all: flags.all }), flags.remote);
  }
}
