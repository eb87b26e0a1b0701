import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag } from '../../cli/flags.js';
import { configSet } from '../../cli/handlers/config.js';

export default class ConfigSet extends BaseCommand {
  static override summary = 'Set a config value.';
  static override description = 'The value is checked against the key\'s schema; an unknown key or a bad value is refused with a message naming the key (exit 5). Secrets cannot be set here: use `config set-secret`, which never takes the value on the command line.';
  static override examples = ['<%= config.bin %> config set mpd.host 192.168.1.20', '<%= config.bin %> config set volume.backend pipewire', '<%= config.bin %> config set media.folders.music /srv/music'];
  static override args = {
    key: Args.string({ description: 'config key (see `config list --all`)', required: true }),
    value: Args.string({ description: 'new value', required: true }),
  };
  static override flags = { json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ConfigSet);
    await this.handle(flags.json, (ctx) => configSet(ctx, args.key, args.value));
  }
}
