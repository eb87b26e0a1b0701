import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag } from '../../cli/flags.js';
import { configList } from '../../cli/handlers/config.js';

export default class ConfigList extends BaseCommand {
  static override summary = 'List config values (secrets masked).';
  static override description = 'Prints the values that are set, as KEY=VALUE. --all lists every key mediagate understands with its default and meaning.';
  static override examples = ['<%= config.bin %> config list', '<%= config.bin %> config list --all --json'];
  static override flags = { all: Flags.boolean({ description: 'every known key with its default and description' }), json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(ConfigList);
    await this.handle(flags.json, (ctx) => configList(ctx, { all: flags.all }));
  }
}
