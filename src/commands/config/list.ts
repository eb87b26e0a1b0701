import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag } from '../../cli/flags.js';
import { configList } from '../../cli/handlers/config.js';

export default class ConfigList extends BaseCommand {
  static override summary = 'List config values (secrets masked).';
  static override description = 'Prints the values that are set, as KEY=VALUE. --all lists every key mediagate understands with its default and meaning. Secrets are shown masked: •••• followed by their last 4 characters when they are at least 12 characters long (e.g. ••••1234), only •••• when shorter, so that a short password never shows a large part of itself. A secret that cannot be opened is listed as •••• (cannot open: CODE) instead of failing the list.';
  static override examples = ['<%= config.bin %> config list', '<%= config.bin %> config list --all --json'];
  static override flags = { all: Flags.boolean({ description: 'every known key with its default and description' }), json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(ConfigList);
    await this.handle(flags.json, (ctx) => configList(ctx, { all: flags.all }));
  }
}
