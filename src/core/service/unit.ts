/**
 * The systemd unit that runs `mediagate serve`, as text. Pure: everything it
 * depends on (paths, mode) comes in as arguments, so tests can check the
 * exact unit and feed it to `systemd-analyze verify` / `security`.
 */
export type ServiceMode = 'user' | 'system';

export const UNIT_NAME = 'mediagate.service';
/** The dedicated account of the system service (created through sysusers.d). */
export const SYSTEM_USER = 'mediagate';
/** Its home and StateDirectory=; config and state follow the XDG layout inside it. */
export const SYSTEM_HOME = '/var/lib/mediagate';

export interface UnitInputs {
  mode: ServiceMode;
  /** Absolute path of the node binary that runs mediagate. */
  node: string;
  /** Absolute path of mediagate's bin/run.cjs. */
  bin: string;
  /** User unit: the config and state directories serve uses (those of the installing user). */
  configDir?: string;
  stateDir?: string;
}

/**
 * The restart policy, stated once (the unit and the docs use it): restart
 * after a crash or an unexpected exit, 5 s apart, at most 5 times in 5
 * minutes; never after a usage (2) or configuration (5) error, which a
 * restart cannot fix — `systemctl status` then shows the reason.
 */
export const RESTART_POLICY = {
  restart: 'on-failure',
  restartSec: '5s',
  startLimitIntervalSec: '300',
  startLimitBurst: '5',
  preventExitStatus: '2 5',
} as const;

export const SYSTEM_CONFIG_DIR = `${SYSTEM_HOME}/.config/mediagate`;
export const SYSTEM_STATE_DIR = `${SYSTEM_HOME}/.local/state/mediagate`;

/** The sysusers.d line that creates the system service's account. */
export function sysusersEntry(): string {
  return `# mediagate serve (written by mediagate service install --system)\nu ${SYSTEM_USER} - "mediagate serve" ${SYSTEM_HOME} /usr/sbin/nologin\n`;
}

/** Refuse what a unit file cannot hold: relative paths, control characters. */
function checkPath(what: string, p: string): void {
  if (!p.startsWith('/')) throw new Error(`${what} must be an absolute path`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(p)) throw new Error(`${what} holds a control character`);
}

/**
 * One word of ExecStart=/Environment=: `%` is a specifier and `$` a variable
 * to systemd, so both are doubled; quoted when it holds a space, quote or backslash.
 */
export function unitWord(s: string): string {
  const escaped = s.replaceAll('%', '%%').replaceAll('$', '$$$$');
  return /[\s"'\\]/.test(escaped) ? `"${escaped.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"` : escaped;
}

/** Where a binary lives that ProtectHome= or PrivateTmp= would hide from the system service. */
export function hiddenBySandbox(path: string): 'home' | 'tmp' | undefined {
  if (/^\/(home|root|run\/user)(\/|$)/.test(path)) return 'home';
  if (/^\/(tmp|var\/tmp)(\/|$)/.test(path)) return 'tmp';
  return undefined;
}

/**
 * Sandboxing both units share. Chosen so that serve still works: Node's JIT
 * needs writable+executable memory (no MemoryDenyWriteExecute=); libuv tries
 * io_uring, which @system-service leaves out — SystemCallErrorNumber=EPERM
 * makes such a call fail (libuv falls back) instead of killing the process.
 * AF_UNIX stays for D-Bus, PulseAudio and MPD's socket; AF_INET/6 for the
 * API, MPD and MQTT over TCP.
 */
const COMMON_HARDENING = [
  'NoNewPrivileges=yes',
  'LockPersonality=yes',
  'RestrictRealtime=yes',
  'RestrictSUIDSGID=yes',
  'RestrictNamespaces=yes',
  'SystemCallArchitectures=native',
  'SystemCallFilter=@system-service',
  'SystemCallFilter=~@privileged',
  'SystemCallErrorNumber=EPERM',
  'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
  'UMask=0077',
];

/** What only a system service can have (each needs privileges a user manager lacks). */
function systemHardening(exec: string[]): string[] {
  const home = exec.some((p) => hiddenBySandbox(p) === 'home');
  return [
    `User=${SYSTEM_USER}`,
    `Group=${SYSTEM_USER}`,
    `StateDirectory=mediagate`,
    'StateDirectoryMode=0700',
    `ReadWritePaths=${SYSTEM_HOME}`,
    'ProtectSystem=strict',
    // node or mediagate under a home directory (nvm, ~/.local): readable, never writable.
    `ProtectHome=${home ? 'read-only' : 'yes'}`,
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'PrivateMounts=yes',
    'PrivateUsers=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectProc=invisible',
    'ProcSubset=pid',
    'RemoveIPC=yes',
    'DevicePolicy=closed',
    'CapabilityBoundingSet=',
    'AmbientCapabilities=',
  ];
}

/** The unit file for `serve` in this mode. */
export function renderUnit(u: UnitInputs): string {
  checkPath('the node binary', u.node);
  checkPath('the mediagate binary', u.bin);
  const configDir = u.mode === 'system' ? SYSTEM_CONFIG_DIR : u.configDir;
  const stateDir = u.mode === 'system' ? SYSTEM_STATE_DIR : u.stateDir;
  if (!configDir || !stateDir) throw new Error('a user unit needs the config and state directories');
  checkPath('the config directory', configDir);
  checkPath('the state directory', stateDir);
  const r = RESTART_POLICY;
  const lines = [
    `# ${UNIT_NAME}: mediagate serve as a ${u.mode} service (written by mediagate service install --${u.mode}).`,
    '# Restart policy: on failure, 5 s apart, at most 5 times in 5 minutes;',
    '# never after a usage (exit 2) or config (exit 5) error: fix it, then systemctl restart.',
    '[Unit]',
    'Description=mediagate serve: authenticated HTTP + WebSocket media control',
    'Documentation=man:mediagate-serve(1) man:mediagate-service-install(1)',
    ...(u.mode === 'system' ? ['Wants=network-online.target', 'After=network-online.target'] : []),
    `StartLimitIntervalSec=${r.startLimitIntervalSec}`,
    `StartLimitBurst=${r.startLimitBurst}`,
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${[u.node, u.bin, 'serve'].map(unitWord).join(' ')}`,
    `Environment=${unitWord(`MEDIAGATE_CONFIG_DIR=${configDir}`)}`,
    `Environment=${unitWord(`MEDIAGATE_STATE_DIR=${stateDir}`)}`,
    ...(u.mode === 'system' ? [`Environment=HOME=${SYSTEM_HOME}`] : []),
    `Restart=${r.restart}`,
    `RestartSec=${r.restartSec}`,
    `RestartPreventExitStatus=${r.preventExitStatus}`,
    // serve drains in-flight requests for at most 5 s and flushes the audit log.
    'TimeoutStopSec=15s',
    ...(u.mode === 'system' ? systemHardening([u.node, u.bin]) : []),
    ...COMMON_HARDENING,
    '',
    '[Install]',
    `WantedBy=${u.mode === 'system' ? 'multi-user.target' : 'default.target'}`,
  ];
  return `${lines.join('\n')}\n`;
}
