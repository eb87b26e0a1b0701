// config get|set|unset|list: schema-validated, private files, unsafe permissions refused.
import t from 'tap';
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliEnv, runCli } from './helpers/cli.js';

t.test('set, get, list, unset', async (t) => {
  const { env, configDir } = cliEnv(t);
  let r = await runCli(['config', 'set', 'mpd.port', '6601'], { env });
  t.equal(r.code, 0, r.stderr);
  t.equal(statSync(join(configDir, 'config.json')).mode & 0o777, 0o600, 'config file 0600');
  t.equal(statSync(configDir).mode & 0o777, 0o700, 'config dir 0700');
  t.same(JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')), { mpd: { port: 6601 } }, 'stored as a number');
  r = await runCli(['config', 'get', 'mpd.port'], { env });
  t.equal(r.stdout, '6601\n');
  r = await runCli(['config', 'get', 'volume.backend', '--json'], { env });
  t.same(JSON.parse(r.stdout), { key: 'volume.backend', value: 'auto', set: false, secret: false }, 'defaults are shown');
  r = await runCli(['config', 'set', 'media.folders.music', '/srv/music'], { env });
  t.equal(r.code, 0, r.stderr);
  r = await runCli(['config', 'list', '--json'], { env });
  t.same(JSON.parse(r.stdout), { 'media.folders.music': '/srv/music', 'mpd.port': 6601 });
  r = await runCli(['config', 'list', '--all', '--json'], { env });
  t.ok(JSON.parse(r.stdout).some((k) => k.key === 'backend.timeoutMs' && k.default === 3000));
  r = await runCli(['config', 'unset', 'mpd.port'], { env });
  t.equal(r.code, 0, r.stderr);
  r = await runCli(['config', 'get', 'mpd.port'], { env });
  t.equal(r.stdout, '6600\n', 'back to the default');
});

t.test('denied: unknown keys and bad values name the key (exit 5)', async (t) => {
  const { env } = cliEnv(t);
  for (const [args, re] of [
    [['config', 'set', 'mpd.prot', '1'], /unknown config key 'mpd.prot'/],
    [['config', 'set', 'mpd.port', '70000'], /'mpd.port'.*1 to 65535/],
    [['config', 'set', 'mpd.port', 'abc'], /'mpd.port'/],
    [['config', 'set', 'volume.backend', 'oss'], /'volume.backend'.*auto, pulse, pipewire, alsa, macos, windows, player/],
    [['config', 'set', 'media.folders.music', 'relative/path'], /'media.folders.music'.*absolute/],
    [['config', 'set', 'media.folders.a/b', '/x'], /unknown config key/],
    [['config', 'set', 'mpd.password', 'hunter2'], /set-secret/],
    [['config', 'get', 'nope'], /unknown config key 'nope'/],
  ]) {
    const r = await runCli(args, { env });
    t.equal(r.code, 5, `${args.join(' ')} → exit 5`);
    t.match(r.stderr, re);
    t.notMatch(r.stderr, /hunter2/, 'a refused secret is not echoed');
  }
});

t.test('denied: a hand-edited bad config file is reported with its key', async (t) => {
  const { env, configDir } = cliEnv(t);
  writeFileSync(join(configDir, 'config.json'), JSON.stringify({ mpd: { port: 'x' } }), { mode: 0o600 });
  let r = await runCli(['status'], { env });
  t.equal(r.code, 5);
  t.match(r.stderr, /invalid value for 'mpd.port'/);
  writeFileSync(join(configDir, 'config.json'), '{ not json', { mode: 0o600 });
  r = await runCli(['config', 'list'], { env });
  t.equal(r.code, 5);
  t.match(r.stderr, /not valid JSON/);
});

t.test('denied: group/world-writable config is refused with a fix', async (t) => {
  const { env, configDir } = cliEnv(t);
  let r = await runCli(['config', 'set', 'mpd.port', '6601'], { env });
  t.equal(r.code, 0);
  chmodSync(configDir, 0o777);
  r = await runCli(['config', 'list'], { env });
  t.equal(r.code, 5, 'world-writable dir refused');
  t.match(r.stderr, /writable by group or others/);
  t.match(r.stderr, /chmod 700/);
  chmodSync(configDir, 0o700);
  chmodSync(join(configDir, 'config.json'), 0o666);
  r = await runCli(['status'], { env });
  t.equal(r.code, 5, 'world-writable file refused');
  t.match(r.stderr, /chmod 600/);
  chmodSync(join(configDir, 'config.json'), 0o600);
  r = await runCli(['config', 'list'], { env });
  t.equal(r.code, 0, 'allowed again once fixed');
});

t.test('a config dir that does not exist yet is created 0700 with a 0600 file, even under umask 000', async (t) => {
  const { env, base } = cliEnv(t);
  const dir = join(base, 'fresh', 'nested', 'mediagate');
  const old = process.umask(0o000); // the child inherits it at spawn
  let r;
  try {
    r = await runCli(['config', 'set', 'mpd.port', '6601'], { env: { ...env, MEDIAGATE_CONFIG_DIR: dir } });
  } finally {
    process.umask(old);
  }
  t.equal(r.code, 0, r.stderr);
  t.equal(statSync(dir).mode & 0o777, 0o700, 'created dir 0700 despite umask 000');
  t.equal(statSync(join(dir, 'config.json')).mode & 0o777, 0o600, 'created file 0600 despite umask 000');
});

t.test('a pre-made 0755 dir and 0644 file (not writable by others) are used and tightened to 0700/0600', async (t) => {
  const { env, base } = cliEnv(t);
  const dir = join(base, 'premade');
  mkdirSync(dir);
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ mpd: { port: 6601 } }));
  chmodSync(join(dir, 'config.json'), 0o644);
  const e = { ...env, MEDIAGATE_CONFIG_DIR: dir };
  let r = await runCli(['config', 'get', 'mpd.port'], { env: e });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '6601\n', 'read as it is: readable by others is not a threat to mediagate');
  r = await runCli(['config', 'set', 'mpd.port', '6602'], { env: e });
  t.equal(r.code, 0, r.stderr);
  t.equal(statSync(dir).mode & 0o777, 0o700, 'dir tightened to 0700 on the first write');
  t.equal(statSync(join(dir, 'config.json')).mode & 0o777, 0o600, 'file rewritten 0600');
});

t.test('denied: a group-writable (not world-writable) 0775 dir or 0664 file is refused, never fixed silently', async (t) => {
  const { env, base } = cliEnv(t);
  const dir = join(base, 'shared');
  mkdirSync(dir);
  chmodSync(dir, 0o775);
  const e = { ...env, MEDIAGATE_CONFIG_DIR: dir };
  let r = await runCli(['config', 'set', 'mpd.port', '6601'], { env: e });
  t.equal(r.code, 5);
  t.match(r.stderr, /writable by group or others \(mode 775\)/);
  t.equal(statSync(dir).mode & 0o777, 0o775, 'left as it was');
  t.notOk(existsSync(join(dir, 'config.json')), 'nothing written');
  chmodSync(dir, 0o700);
  writeFileSync(join(dir, 'config.json'), '{}');
  chmodSync(join(dir, 'config.json'), 0o664);
  r = await runCli(['config', 'set', 'mpd.port', '6601'], { env: e });
  t.equal(r.code, 5);
  t.match(r.stderr, /chmod 600/);
  t.equal(readFileSync(join(dir, 'config.json'), 'utf8'), '{}', 'file untouched');
});
