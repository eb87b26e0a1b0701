import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag } from '../../cli/flags.js';
import { configSetSecret, refuseSecretOnCommandLine } from '../../cli/handlers/secret.js';

export default class ConfigSetSecret extends BaseCommand {
  static override summary = 'Store a secret (such as mpd.password) sealed.';
  static override description = 'The value is read from a hidden prompt on a terminal, or from stdin otherwise — never from the command line. It is sealed (NaCl secretbox) with the key in secret.key or MEDIAGATE_SECRET_KEY and shown masked afterwards: •••• plus the last 4 characters for values of 12 characters or more, only •••• for shorter ones.';
  static override examples = [
    '<%= config.bin %> config set-secret mpd.password',
    'printf \'%s\' "$MPD_PASSWORD" | <%= config.bin %> config set-secret mpd.password',
  ];
  static override args = { key: Args.string({ description: 'secret config key, e.g. mpd.password', required: true }) };
  static override flags = { json: jsonFlag };

  async run(): Promise<void> {
    // Anything besides KEY and --json is refused before oclif parses: its messages
    // ("Unexpected argument: <it>", "Nonexistent flag: <it>") would echo a secret
    // typed on the command line. The refusal does not repeat it.
    const json = this.argv.includes('--json');
    const rest = this.argv.filter((a) => a !== '--json');
    if (rest.length > 1 || rest.some((a) => a.startsWith('-'))) {
      await this.handle(json, () => refuseSecretOnCommandLine(rest.length - (rest.some((a) => !a.startsWith('-')) ? 1 : 0)));
      return;
    }
    const { args, flags } = await this.parse(ConfigSetSecret);
    await this.handle(flags.json, (ctx) => configSetSecret(ctx, args.key));
  }
}
