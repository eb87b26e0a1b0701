import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag, serviceModeFlags } from '../../cli/flags.js';
import { serviceInstall } from '../../cli/handlers/service.js';

export default class ServiceInstall extends BaseCommand {
  static override summary = 'Install, enable and start a systemd unit that runs serve.';
  static override description = `Writes mediagate.service, enables it and starts it (systemctl daemon-reload, enable --now). Run again after moving node or mediagate: the unit names both by absolute path. serve reads its settings from config as usual (server.host, server.port, server.tlsCert, …).

--user (the default) writes ~/.config/systemd/user/mediagate.service ($XDG_CONFIG_HOME/systemd/user), started by your user manager, with your config and state directories and your session bus (MPRIS players, PulseAudio); keep it running while you are logged out with loginctl enable-linger. --system writes /etc/systemd/system/mediagate.service, run as the dedicated user mediagate (created through /etc/sysusers.d/mediagate.conf) whose config and state live in /var/lib/mediagate, sandboxed: NoNewPrivileges, ProtectSystem=strict with ReadWritePaths only for /var/lib/mediagate, ProtectHome, PrivateTmp, PrivateDevices, PrivateUsers, no capabilities, RestrictAddressFamilies (unix, IPv4, IPv6), SystemCallFilter=@system-service, the kernel, clock, cgroup and /proc protections. A system service has no session bus: it controls MPD (and reaches remote players), not a desktop's MPRIS players; use --user for those.

Restart policy (both): Restart=on-failure, 5 s apart (RestartSec), at most 5 starts in 5 minutes (StartLimitBurst/StartLimitIntervalSec); never after exit 2 (usage) or 5 (config error), which a restart cannot fix: fix the config, then systemctl restart mediagate. Stopping sends SIGTERM: serve finishes in-flight requests and flushes the audit log (TimeoutStopSec=15s).

Where systemd is not the init (a container, another init), nothing is installed: the unit is printed on stdout and the exit code is 3. --print prints the unit and does nothing else. MEDIAGATE_SYSTEMD_ROOT=DIR works offline on the tree under DIR (as systemctl --root: for building images): the files are written there, a system unit is enabled with systemctl --root, and no service manager is asked.

Exit codes: 3 systemd is not the init; 4 not allowed to write the unit (--system needs root); 1 systemctl failed.`;
  static override examples = [
    '<%= config.bin %> service install',
    'sudo <%= config.bin %> service install --system',
    '<%= config.bin %> service install --system --print > mediagate.service',
  ];
  static override flags = {
    ...serviceModeFlags,
    print: Flags.boolean({ description: 'print the unit on stdout and install nothing' }),
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ServiceInstall);
    await this.handle(flags.json, (ctx) => serviceInstall(ctx, { mode: flags.system ? 'system' : 'user', print: flags.print }));
  }
}
