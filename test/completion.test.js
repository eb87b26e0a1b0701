// `mediagate completion`: the bash script sourced in a real bash, its
// function driven with COMP_WORDS/COMP_CWORD and COMPREPLY read back —
// commands, flags, fixed values, config keys, remote names, files, and player
// names from a real mpv on a private bus and a real MPD. zsh and fish: their
// own syntax check, and fish's own completion of a command line.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, cliEnv, runCli } from './helpers/cli.js';
import { startSessionBus, startMpv } from './helpers/dbus.js';
import { startMpd } from './helpers/mpd.js';
import { makeMusic, tempDir, waitFor } from './helpers/proc.js';
import { bridgeConnected, startStack } from './helpers/mqtt-stack.js';

/** A `mediagate` on PATH (what the scripts call back) for env. */
// Each Tab is a process; with mpv, MPD, Mosquitto and two serves this file passes 120 s on a loaded 2-core machine.
t.setTimeout(360_000);

// Lookups here may take long on a loaded machine; the default budget (0.8 s) is the cheapness test's.
const SLOW_OK = { MEDIAGATE_COMPLETION_TIMEOUT_MS: '10000' };

function onPath(t, env) {
  const dir = tempDir(t, 'mg-path-');
  writeFileSync(join(dir, 'mediagate'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
  chmodSync(join(dir, 'mediagate'), 0o755);
  return { ...env, ...SLOW_OK, PATH: `${dir}:${env.PATH}` };
}

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/**
 * Source the bash script, then complete each line (words as bash splits
 * them; the last one is the word under the cursor). Resolves one array of
 * COMPREPLY per line, plus what `complete -p mediagate` says.
 */
async function bashComplete(env, lines, cwd) {
  const script = await runCli(['completion', 'bash'], { env });
  if (script.code !== 0) throw new Error(script.stderr);
  const calls = lines.map((words) => `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; COMPREPLY=(); _mediagate; printf '%s\\n' "\${COMPREPLY[@]}"; echo '<end>'`);
  const prog = `source /dev/stdin <<'MEDIAGATE_EOF'\n${script.stdout}MEDIAGATE_EOF\ncomplete -p mediagate; echo '<end>'\n${calls.join('\n')}\n`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', prog], { env, encoding: 'utf8', cwd, timeout: 60000 });
  if (r.status !== 0) throw new Error(`bash: ${r.status} ${r.stderr}`);
  const parts = r.stdout.split('<end>\n');
  return { completeP: parts[0].trim(), replies: parts.slice(1, -1).map((p) => p.split('\n').filter(Boolean)), stderr: r.stderr };
}

t.test('bash: commands, flags, values, config keys, remotes and files', async (t) => {
  const { env: base } = cliEnv(t, { MPD_PORT: '1' });
  const env = onPath(t, base);
  t.equal((await runCli(['config', 'set', 'remotes.home.url', 'https://media.example.net:8420'], { env })).code, 0);
  t.equal((await runCli(['config', 'set', 'remote.timeoutMs', '5000'], { env })).code, 0);
  const cwd = tempDir(t, 'mg-cwd-');
  writeFileSync(join(cwd, 'cert.pem'), '');
  writeFileSync(join(cwd, 'chain.pem'), '');
  const { completeP, replies } = await bashComplete(env, [
    ['mediagate', ''],
    ['mediagate', 'pl'],
    ['mediagate', 'play', 'st'],
    ['mediagate', 'play', 'status', '--f'],
    ['mediagate', 'play', 'status', '--follow', '--f'],
    ['mediagate', 'config', 'get', 'server.p'],
    ['mediagate', 'config', 'unset', 'remotes.'],
    ['mediagate', 'play', 'status', '--remote', ''],
    ['mediagate', 'play', 'status', '--remote', '=', 'h'],
    ['mediagate', 'remote', 'use', ''],
    ['mediagate', 'serve', '--tls-cert', 'c'],
    ['mediagate', 'completion', ''],
    ['mediagate', 'service', 'install', '--s'],
    ['mediagate', 'volume', '--target', ''],
    ['mediagate', 'nosuchcommand', ''],
  ], cwd);
  t.equal(completeP, 'complete -F _mediagate mediagate', 'complete -p shows the function');
  const [top, pl, playSt, flagsF, flagsUsed, keys, wildKeys, remotes, remotesEq, remoteUse, files, shells, modes, repeat, unknown] = replies;
  for (const c of ['play', 'volume', 'status', 'serve', 'config', 'service', 'completion', 'token']) t.ok(top.includes(c), `top level offers ${c}`);
  t.notOk(top.some((c) => c.startsWith('completion:') || c === 'words'), 'hidden commands are not offered');
  t.same(pl.sort(), ['play', 'players', 'playerctl'].filter((c) => top.includes(c)).sort());
  t.same(playSt, ['status', 'stop']);
  t.same(flagsF, ['--format', '--follow']);
  t.same(flagsUsed, ['--format'], 'a flag already given is not offered again');
  t.same(keys.sort(), ['server.port', 'server.publicUrl']);
  t.same(wildKeys, ['remotes.home.url', 'remotes.home.token', 'remotes.home.ca'].sort((a, b) => wildKeys.indexOf(a) - wildKeys.indexOf(b)), 'the profiles that exist');
  t.same(remotes, ['home', 'local']);
  t.same(remotesEq, ['home'], '--remote=h (split at = by bash)');
  t.same(remoteUse, ['home', 'local']);
  t.same(files.sort(), ['cert.pem', 'chain.pem']);
  t.same(shells, ['bash', 'fish', 'zsh']);
  t.same(modes, ['--system']);
  t.same(repeat, ['system', 'player'], 'a flag\'s fixed values');
  t.same(unknown, [], 'nothing for an unknown command');
});

t.test('bash: player names from a real mpv on a private bus and a real MPD', async (t) => {
  const bus = await startSessionBus(t);
  const music = makeMusic(join(tempDir(t, 'mg-music-'), 'm'), 5);
  const mpv = await startMpv(t, bus, [join(music, 'a.ogg')]);
  const mpd = await startMpd(t, { musicDir: music });
  const { env: base } = cliEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address, MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) });
  const env = onPath(t, base);
  const { replies, stderr } = await bashComplete(env, [
    ['mediagate', 'play', 'status', '--player', ''],
    ['mediagate', 'pause', '-p', 'mp'],
    ['mediagate', 'play', 'status', '--player', '=', ''],
    ['mediagate', 'play', 'next', '--player', mpv.name.slice(0, 3)],
  ]);
  t.same(replies[0].sort(), [mpv.name, 'mpd'].sort(), 'mpv from the bus and MPD');
  t.same(replies[1].sort(), [mpv.name, 'mpd'].sort());
  t.same(replies[2].sort(), [mpv.name, 'mpd'].sort(), '--player= (bash splits at =)');
  t.same(replies[3], [mpv.name], JSON.stringify({ replies, stderr }));
  await mpv.stop();
  const gone = await bashComplete(env, [['mediagate', 'play', 'status', '--player', '']]);
  t.same(gone.replies[0], ['mpd'], 'a player that quit is no longer offered');
});

t.test('bash: node names from a real Mosquitto, announced by two real serve bridges', async (t) => {
  const kitchen = await startStack(t, { node: 'kitchen' });
  const den = await startStack(t, { broker: kitchen.mq, node: 'den' });
  await bridgeConnected(kitchen.srv);
  await bridgeConnected(den.srv);
  const { env: base } = cliEnv(t, { MPD_PORT: '1' });
  const env = onPath(t, base);
  t.equal((await runCli(['config', 'set', 'mqtt.url', kitchen.mq.url], { env })).code, 0);
  // The bridges' retained availability reaches the broker just after they connect.
  const all = await waitFor(async () => {
    const r = await bashComplete(env, [['mediagate', 'pause', '--node', '']]);
    return r.replies[0].length === 2 && r.replies[0];
  }, { timeoutMs: 15000, stepMs: 200, what: 'both nodes offered' });
  t.same(all.sort(), ['den', 'kitchen']);
  const k = await bashComplete(env, [['mediagate', 'volume', '--node', 'k']]);
  t.same(k.replies[0], ['kitchen']);
});

t.test('the callback stays cheap: a broker that never answers is left out in time', async (t) => {
  const { env } = cliEnv(t, { MPD_PORT: '1' });
  // A TCP port that accepts and never answers MQTT.
  const net = await import('node:net');
  const server = net.createServer(() => {});
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  t.equal((await runCli(['config', 'set', 'mqtt.url', `mqtt://127.0.0.1:${server.address().port}`], { env })).code, 0);
  const started = Date.now();
  const r = await runCli(['completion', 'words', '--shell', 'bash'], { env: { ...env, MEDIAGATE_DEBUG_DISPATCH: '1' }, input: 'pause\n--node\n\n' });
  const ms = Date.now() - started;
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '');
  t.match(r.stderr, /dispatch: fast completion:words/, 'answered on the fast path, without oclif');
  t.ok(ms < 8000, `answered in ${ms} ms (budget 800 ms + start-up)`);
});

t.test('the fast path and oclif answer the same', async (t) => {
  const { env } = cliEnv(t, { MPD_PORT: '1', MEDIAGATE_DEBUG_DISPATCH: '1' });
  for (const [shell, input] of [['bash', 'play\nst\n'], ['zsh', 'config\nget\nserver.\n'], ['fish', 'service\ninstall\n--\n']]) {
    const fast = await runCli(['completion', 'words', '--shell', shell], { env, input });
    const slow = await runCli(['completion', 'words', '--shell', shell], { env: { ...env, MEDIAGATE_NO_FAST_PATH: '1' }, input });
    t.match(fast.stderr, /^dispatch: fast completion:words/);
    t.notMatch(slow.stderr, /dispatch: fast/);
    t.equal(fast.stdout, slow.stdout, `${shell}: same candidates`);
    t.ok(fast.stdout.length > 0);
  }
});

t.test('bad input: an unknown shell is a usage error', async (t) => {
  const { env } = cliEnv(t);
  const r = await runCli(['completion', 'tcsh'], { env });
  t.equal(r.code, 2);
  t.match(r.stderr, /tcsh/);
  const w = await runCli(['completion', 'words', '--shell', 'tcsh'], { env, input: 'pl\n' });
  t.equal(w.code, 2);
  const none = await runCli(['completion'], { env });
  t.equal(none.code, 2);
});

t.test('zsh: the script parses', { skip: !has('zsh') && 'zsh not installed' }, async (t) => {
  const { env } = cliEnv(t);
  const s = await runCli(['completion', 'zsh'], { env });
  t.equal(s.code, 0);
  const dir = tempDir(t, 'mg-zsh-');
  writeFileSync(join(dir, '_mediagate'), s.stdout);
  const r = spawnSync('zsh', ['-n', join(dir, '_mediagate')], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.match(s.stdout, /^#compdef mediagate/);
});

t.test('fish: the script parses, and fish completes a command line with it', { skip: !has('fish') && 'fish not installed' }, async (t) => {
  const { env: base } = cliEnv(t, { MPD_PORT: '1' });
  const env = onPath(t, base);
  const s = await runCli(['completion', 'fish'], { env });
  t.equal(s.code, 0);
  const dir = tempDir(t, 'mg-fish-');
  mkdirSync(join(dir, 'home'));
  const file = join(dir, 'mediagate.fish');
  writeFileSync(file, s.stdout);
  const n = spawnSync('fish', ['-n', file], { encoding: 'utf8' });
  t.equal(n.status, 0, n.stderr);
  const fishEnv = { ...env, HOME: join(dir, 'home'), XDG_CONFIG_HOME: join(dir, 'home', '.config') };
  const run = (line) => spawnSync('fish', ['--no-config', '-c', `source ${file}; complete -C '${line}'`], { encoding: 'utf8', env: fishEnv, timeout: 30000 });
  const a = run('mediagate play st');
  t.equal(a.status, 0, a.stderr);
  t.same(a.stdout.trim().split('\n').map((l) => l.split('\t')[0]), ['status', 'stop']);
  t.match(a.stdout, /status\tShow what is playing/);
  const b = run('mediagate config get server.p');
  t.same(b.stdout.trim().split('\n').map((l) => l.split('\t')[0]).sort(), ['server.port', 'server.publicUrl']);
  const c = run('mediagate play status --player=');
  t.equal(c.status, 0, c.stderr);
});
