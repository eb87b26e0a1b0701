import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag } from '../../cli/flags.js';
import { configUnset } from '../../cli/handlers/config.js';

export default class ConfigUnset extends BaseCommand {
  static override summary = 'Remove a config value (back to its default).';
  static override examples = ['<%= config.bin %> config unset mpd.host'];
  static override args = { key: Args.string({ description: 'config key', required: true }) };
  static override flags = { json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ConfigUnset);
    await this.handle(flags.json, (ctx) => configUnset(ctx, args.key));
  }
}
