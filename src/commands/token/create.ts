import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag, remoteFlag } from '../../cli/flags.js';
import { tokenCreate } from '../../cli/handlers/token.js';

export default class TokenCreate extends BaseCommand {
  static override summary = 'Create an API token (shown once).';
  static override description = 'Prints the new token (mg_…) once on stdout; only its SHA-256 is stored. Scopes: read (status, browsing) ⊂ control (play, pause, seek, volume) ⊂ admin (tokens, invites, scripts, audit). --expires takes 30d, 12h, 90m, 1w or never (the default).';
  static override examples = [
    '<%= config.bin %> token create --label kitchen-tablet --scope control --expires 90d',
    'TOKEN=$(<%= config.bin %> token create --label backup --scope read)',
    '<%= config.bin %> token create --label hass --scope control --json',
  ];
  static override flags = {
    label: Flags.string({ description: 'name to recognise the token by (1–64 characters)', required: true, helpValue: 'LABEL' }),
    scope: Flags.string({ description: 'what the token may do: read, control or admin', required: true, helpValue: 'read|control|admin' }),
    expires: Flags.string({ description: 'lifetime: 30d, 12h, 90m, 1w or never', helpValue: 'DURATION' }),
    remote: remoteFlag,
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TokenCreate);
    await this.handle(flags.json, (ctx) => tokenCreate(ctx, { label: flags.label, scope: flags.scope, expires: flags.expires }), flags.remote);
  }
}
