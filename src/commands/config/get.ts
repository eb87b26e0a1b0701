import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag } from '../../cli/flags.js';
import { configGet } from '../../cli/handlers/config.js';

export default class ConfigGet extends BaseCommand {
  static override summary = 'Print one config value (or its default).';
  static override description = 'Secrets are shown masked: •••• followed by their last 4 characters when they are at least 12 characters long (e.g. ••••1234), only •••• when shorter, so that a short password never shows a large part of itself. --reveal prints them in clear for the local owner and records that in the audit log. Exit 5 when the key is unknown or not set.';
  static override examples = ['<%= config.bin %> config get mpd.host', '<%= config.bin %> config get volume.backend --json'];
  static override args = { key: Args.string({ description: 'config key, e.g. mpd.port', required: true }) };
  static override flags = { reveal: Flags.boolean({ description: 'print a secret in clear (local owner only)' }), json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ConfigGet);
    await this.handle(flags.json, (ctx) => configGet(ctx, args.key, { reveal: flags.reveal }));
  }
}
