// `mediagate service`: the unit for serve, checked by systemd's own tools
// (systemd-analyze verify and security), and install/status/uninstall in an
// offline root (MEDIAGATE_SYSTEMD_ROOT, as systemctl --root) with the real
// systemctl and systemd-sysusers — this machine's init is not systemd.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cliEnv, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/proc.js';
import { testUser } from './helpers/pulse.js';

const MANPATH = join(ROOT, 'man');

/** `systemd-analyze ARGS` with our man pages findable (verify checks Documentation=). */
function analyze(args, dir) {
  const runtime = join(dir, 'runtime');
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  return spawnSync('systemd-analyze', args, { encoding: 'utf8', env: { ...process.env, MANPATH, XDG_RUNTIME_DIR: runtime }, cwd: dir });
}

/** An offline root that has systemd installed (what initSystem looks for under a root). */
function systemdRoot(t) {
  const root = tempDir(t, 'mg-root-');
  mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
  writeFileSync(join(root, 'usr/lib/systemd/systemd'), '');
  return root;
}

async function printed(t, mode) {
  const { env, configDir, stateDir, base } = cliEnv(t);
  const r = await runCli(['service', 'install', `--${mode}`, '--print'], { env });
  t.equal(r.code, 0, r.stderr);
  const file = join(base, 'mediagate.service');
  writeFileSync(file, r.stdout);
  return { unit: r.stdout, file, base, configDir, stateDir };
}

t.test('system unit: sandboxed, passes systemd-analyze verify, security rates it OK or better', async (t) => {
  const { unit, file, base } = await printed(t, 'system');
  for (const line of ['User=mediagate', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes',
    'ReadWritePaths=/var/lib/mediagate', 'StateDirectory=mediagate', 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
    'SystemCallFilter=@system-service', 'CapabilityBoundingSet=', 'Restart=on-failure', 'RestartPreventExitStatus=2 5',
    'WantedBy=multi-user.target', `ExecStart=${process.execPath} ${join(ROOT, 'bin/run.cjs')} serve`]) {
    t.ok(unit.split('\n').includes(line), line);
  }
  const v = analyze(['verify', file], base);
  t.equal(v.status, 0, `verify: ${v.stderr}`);
  t.equal(v.stderr.trim(), '', 'verify has nothing to say');
  const s = analyze(['security', '--offline=true', file], base);
  const m = /Overall exposure level for \S+: ([\d.]+) (\w+)/.exec(s.stdout);
  t.ok(m, s.stdout.slice(-300) + s.stderr);
  t.comment(`systemd-analyze security (system unit): ${m?.[1]} ${m?.[2]}`);
  t.ok(['SAFE', 'OK'].includes(m?.[2]), `rated ${m?.[2]}`);
  t.ok(Number(m?.[1]) < 2, 'exposure below 2.0');
});

t.test('user unit: passes verify; runs with the installing user\'s config and state dirs', async (t) => {
  const { unit, file, base, configDir, stateDir } = await printed(t, 'user');
  t.ok(unit.includes(`Environment=MEDIAGATE_CONFIG_DIR=${configDir}\n`));
  t.ok(unit.includes(`Environment=MEDIAGATE_STATE_DIR=${stateDir}\n`));
  t.ok(unit.includes('WantedBy=default.target'));
  t.notOk(unit.includes('User='), 'no User= in a user unit');
  t.ok(unit.includes('NoNewPrivileges=yes') && unit.includes('SystemCallFilter=@system-service'));
  const v = analyze(['verify', '--user', file], base);
  t.equal(v.status, 0, `verify: ${v.stderr}`);
  const s = analyze(['security', '--offline=true', '--user', file], base);
  const m = /Overall exposure level for \S+: ([\d.]+) (\w+)/.exec(s.stdout);
  t.ok(m, s.stderr);
  t.comment(`systemd-analyze security (user unit, offline): ${m?.[1]} ${m?.[2]}`);
});

t.test('a broken unit is caught by the same check (the verify test can fail)', async (t) => {
  const { unit, file, base } = await printed(t, 'system');
  writeFileSync(file, unit.replace(/^ExecStart=.*$/m, 'ExecStart=relative/node serve'));
  const v = analyze(['verify', file], base);
  t.not(v.status, 0);
});

t.test('paths that need quoting or escaping reach ExecStart intact', async (t) => {
  const { renderUnit, unitWord } = await import('../dist/core/service/unit.js');
  t.equal(unitWord('/opt/my node/bin'), '"/opt/my node/bin"');
  t.equal(unitWord('/opt/100%/$HOME'), '/opt/100%%/$$HOME');
  t.throws(() => renderUnit({ mode: 'system', node: 'node', bin: '/x' }), /absolute/);
  t.throws(() => renderUnit({ mode: 'system', node: '/usr/bin/node\nExecStartPre=/bin/evil', bin: '/x' }), /control character/);
  const dir = tempDir(t, 'mg-unit-');
  const file = join(dir, 'mediagate.service');
  writeFileSync(file, renderUnit({ mode: 'system', node: process.execPath, bin: join(ROOT, 'bin/run.cjs') }).replace(`ExecStart=${process.execPath}`, `ExecStart=${unitWord('/usr/bin/env')} ${unitWord('node 100%')}`));
  const v = analyze(['verify', file], dir);
  t.equal(v.status, 0, v.stderr);
});

t.test('where systemd is not the init: says so, prints the unit, installs nothing, exit 3', async (t) => {
  const empty = tempDir(t, 'mg-root-');
  const { env, base } = cliEnv(t, { XDG_CONFIG_HOME: join(tempDir(t, 'mg-xdg-'), 'cfg'), MEDIAGATE_SYSTEMD_ROOT: empty });
  const r = await runCli(['service', 'install'], { env });
  t.equal(r.code, 3);
  t.match(r.stderr, /systemd is not the init here .*nothing installed; the user unit is printed on stdout/);
  t.match(r.stdout, /^# mediagate\.service/);
  t.match(r.stdout, /ExecStart=.* serve$/m);
  t.notOk(existsSync(join(empty, env.XDG_CONFIG_HOME, 'systemd')), 'no unit written');
  const j = await runCli(['service', 'install', '--json'], { env });
  t.equal(j.code, 3);
  const doc = JSON.parse(j.stdout);
  t.same([doc.installed, doc.reason], [false, 'no_systemd']);
  t.match(doc.unit, /\[Service\]/);
  t.equal(JSON.parse(j.stderr).error.code, 'service.no_systemd');
  t.ok(base);
});

t.test('this machine (PID 1 is not systemd): the live install refuses the same way', { skip: existsSync('/run/systemd/system') && 'systemd is the init here' }, async (t) => {
  const xdg = tempDir(t, 'mg-xdg-');
  const { env } = cliEnv(t, { XDG_CONFIG_HOME: xdg });
  const r = await runCli(['service', 'install'], { env });
  t.equal(r.code, 3, r.stderr);
  t.match(r.stderr, /PID 1 is /);
  t.notOk(existsSync(join(xdg, 'systemd')));
  const s = await runCli(['service', 'status', '--json'], { env });
  t.equal(s.code, 0);
  t.same(JSON.parse(s.stdout).systemd, false);
});

t.test('system service in an offline root: account, unit, enabled; status; idempotent; uninstall', async (t) => {
  const root = systemdRoot(t);
  const { env } = cliEnv(t, { MEDIAGATE_SYSTEMD_ROOT: root });
  const r = await runCli(['service', 'install', '--system', '--json'], { env });
  t.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const unitPath = join(root, 'etc/systemd/system/mediagate.service');
  t.match(doc, { mode: 'system', installed: true, changed: true, unitPath, enabled: true, started: false, offline: true });
  t.match(readFileSync(unitPath, 'utf8'), /^User=mediagate$/m);
  t.equal(lstatSync(unitPath).mode & 0o777, 0o644);
  t.match(readFileSync(join(root, 'etc/passwd'), 'utf8'), /^mediagate:x:\d+:\d+:mediagate serve:\/var\/lib\/mediagate:\/usr\/sbin\/nologin$/m, 'systemd-sysusers made the account');
  const wants = join(root, 'etc/systemd/system/multi-user.target.wants/mediagate.service');
  t.ok(lstatSync(wants).isSymbolicLink(), 'systemctl --root enabled it');

  const st = await runCli(['service', 'status', '--system', '--json'], { env });
  t.equal(st.code, 0, st.stderr);
  t.match(JSON.parse(st.stdout), { installed: true, current: true, systemd: true, enabled: 'enabled', offline: true });
  const text = await runCli(['service', 'status', '--system'], { env });
  t.match(text.stdout, /system service: installed at .*mediagate\.service\nenabled: enabled/);

  const again = await runCli(['service', 'install', '--system', '--json'], { env });
  t.equal(again.code, 0, again.stderr);
  t.equal(JSON.parse(again.stdout).changed, false, 'a second install changes nothing');

  writeFileSync(unitPath, readFileSync(unitPath, 'utf8').replace('/bin/run.cjs', '/old/run.cjs'));
  t.equal(JSON.parse((await runCli(['service', 'status', '--system', '--json'], { env })).stdout).current, false, 'an edited or stale unit is out of date');

  const u = await runCli(['service', 'uninstall', '--system', '--json'], { env });
  t.equal(u.code, 0, u.stderr);
  t.match(JSON.parse(u.stdout), { removed: true });
  t.notOk(existsSync(unitPath));
  t.notOk(existsSync(wants), 'disabled');
  t.notOk(existsSync(join(root, 'etc/sysusers.d/mediagate.conf')));
  const u2 = await runCli(['service', 'uninstall', '--system'], { env });
  t.equal(u2.code, 0);
  t.match(u2.stderr, /not installed/);
});

t.test('user service in an offline root: the unit under the user\'s XDG dir', async (t) => {
  const root = systemdRoot(t);
  const xdg = join(tempDir(t, 'mg-xdg-'), 'cfg');
  const { env, configDir } = cliEnv(t, { MEDIAGATE_SYSTEMD_ROOT: root, XDG_CONFIG_HOME: xdg });
  const r = await runCli(['service', 'install'], { env });
  t.equal(r.code, 0, r.stderr);
  const unitPath = join(root, xdg, 'systemd/user/mediagate.service');
  t.match(r.stderr, /installed .*mediagate\.service \(user unit\)/);
  t.match(r.stderr, /systemctl --user enable --now mediagate\.service/);
  t.match(readFileSync(unitPath, 'utf8'), new RegExp(`^Environment=MEDIAGATE_CONFIG_DIR=${configDir}$`, 'm'));
  const st = JSON.parse((await runCli(['service', 'status', '--json'], { env })).stdout);
  t.match(st, { mode: 'user', unitPath, installed: true, current: true });
  const u = await runCli(['service', 'uninstall'], { env });
  t.equal(u.code, 0, u.stderr);
  t.notOk(existsSync(unitPath));
});

t.test('denied: a user who may not write there gets exit 4 and nothing is written', async (t) => {
  const user = testUser();
  const root = systemdRoot(t);
  chmodSync(root, 0o755);
  const home = tempDir(t, 'mg-home-');
  chmodSync(home, 0o755);
  const cfg = join(home, 'cfg');
  const state = join(home, 'state');
  for (const d of [cfg, state]) { mkdirSync(d, { mode: 0o700 }); chownSync(d, user.uid, user.gid); }
  const args = ['-u', user.name, '--', 'env', `PATH=${process.env.PATH}`, `HOME=${home}`, `MEDIAGATE_CONFIG_DIR=${cfg}`, `MEDIAGATE_STATE_DIR=${state}`,
    `MEDIAGATE_SYSTEMD_ROOT=${root}`, 'NO_COLOR=1', process.execPath, join(ROOT, 'bin/run.cjs'), 'service', 'install', '--system'];
  const r = spawnSync('runuser', args, { encoding: 'utf8' });
  t.equal(r.status, 4, r.stderr);
  t.match(r.stderr, /cannot write .*: permission denied/);
  t.notOk(existsSync(join(root, 'etc/systemd/system/mediagate.service')));
});

t.test('bad input: both modes, an extra argument — usage errors', async (t) => {
  const { env } = cliEnv(t);
  const both = await runCli(['service', 'install', '--user', '--system', '--print'], { env });
  t.equal(both.code, 2);
  t.match(both.stderr, /cannot also be provided|--system/);
  const extra = await runCli(['service', 'status', 'now'], { env });
  t.equal(extra.code, 2);
});
