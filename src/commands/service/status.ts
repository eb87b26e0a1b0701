import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag, serviceModeFlags } from '../../cli/flags.js';
import { serviceStatus } from '../../cli/handlers/service.js';

export default class ServiceStatus extends BaseCommand {
  static override summary = 'Show whether the systemd unit of serve is installed, enabled and running.';
  static override description = 'Whether mediagate.service is installed (and whether it is the unit install would write now: after moving node or mediagate it is out of date), whether systemd is the init, and from systemd: enabled, active state, main PID, restart count. --json prints {mode, unitPath, installed, current, systemd, pid1, offline, enabled, active, sub, mainPid, restarts} (null where unknown). Exit 0 whatever the state; read the fields.';
  static override examples = ['<%= config.bin %> service status', '<%= config.bin %> service status --system --json'];
  static override flags = { ...serviceModeFlags, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(ServiceStatus);
    await this.handle(flags.json, (ctx) => serviceStatus(ctx, { mode: flags.system ? 'system' : 'user' }));
  }
}
