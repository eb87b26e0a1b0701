import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag } from '../../cli/flags.js';
import { remoteList } from '../../cli/handlers/remote.js';

export default class RemoteList extends BaseCommand {
  static override summary = 'List remote server profiles (tokens masked).';
  static override description = '* marks the default (remote.default). --json prints [{name, url, default, token, ca}] with the token masked (••••1234).';
  static override examples = ['<%= config.bin %> remote list', '<%= config.bin %> remote list --json'];
  static override flags = { json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(RemoteList);
    await this.handle(flags.json, (ctx) => remoteList(ctx));
  }
}
