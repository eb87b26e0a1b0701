import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag } from '../../cli/flags.js';
import { configRotateKey } from '../../cli/handlers/secret.js';

export default class ConfigRotateKey extends BaseCommand {
  static override summary = 'Re-seal every secret under a new key.';
  static override description = 'Safe against a crash at any point: the key file always opens the secrets in config; running it again finishes an interrupted rotation. Not available when the key comes from MEDIAGATE_SECRET_KEY.';
  static override examples = ['<%= config.bin %> config rotate-key'];
  static override flags = { json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(ConfigRotateKey);
    await this.handle(flags.json, (ctx) => configRotateKey(ctx));
  }
}
