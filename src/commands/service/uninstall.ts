import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag, serviceModeFlags } from '../../cli/flags.js';
import { serviceUninstall } from '../../cli/handlers/service.js';

export default class ServiceUninstall extends BaseCommand {
  static override summary = 'Stop, disable and remove the systemd unit of serve.';
  static override description = 'Stops and disables mediagate.service (systemctl disable --now), removes the unit file (and, for --system, /etc/sysusers.d/mediagate.conf) and reloads systemd. Config, state, tokens and the audit log are kept, and so is the system service\'s user. Nothing installed: says so, exit 0. --json prints {mode, removed, unitPath}. Exit 4 when not allowed to remove it (--system needs root).';
  static override examples = ['<%= config.bin %> service uninstall', 'sudo <%= config.bin %> service uninstall --system'];
  static override flags = { ...serviceModeFlags, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(ServiceUninstall);
    await this.handle(flags.json, (ctx) => serviceUninstall(ctx, { mode: flags.system ? 'system' : 'user' }));
  }
}
