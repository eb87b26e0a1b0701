// Scripts (security-critical): whole-argv substitution, parameters refused
// before anything runs, scope, timeout killing the whole tree, output cap,
// minimal environment, one run at a time, audit of runs and refusals, and
// config validation — in core and through the real CLI.
import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync, existsSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Config } from '../dist/core/config/store.js';
import { runScript, listScripts, loadScripts, checkScript } from '../dist/core/scripts.js';
import { MediagateError } from '../dist/core/errors.js';
import { tempDir, waitFor } from './helpers/proc.js';
import { BIN, cliEnv, runCli } from './helpers/cli.js';

const NODE = process.execPath;
const PRINT_ARGV = 'process.stdout.write(JSON.stringify(process.argv.slice(1)))';

function setup(t, scripts, extraEnv = {}) {
  const c = cliEnv(t, extraEnv);
  const dir = tempDir(t, 'mg-scripts-');
  const defs = typeof scripts === 'function' ? scripts(dir) : scripts;
  writeFileSync(join(c.configDir, 'config.json'), JSON.stringify({ scripts: defs }), { mode: 0o600 });
  const events = [];
  const audit = { append: (e) => { events.push(e); } };
  return { ...c, dir, config: Config.load(c.env), events, audit };
}

const admin = (audit, extra = {}) => ({ actor: { id: 'local:test', label: 'test' }, audit, scope: 'admin', ...extra });

/**
 * tap's coverage hooks patch child_process in every process under test (this
 * one and the CLI it starts) and add NODE_OPTIONS and _TAPJS_* to each spawn's
 * environment. Those come from the harness, not from mediagate: leave them out.
 */
const HARNESS = process.env._TAPJS_PROCESSINFO_ROOT_ !== undefined || /@tapjs/.test(process.env.NODE_OPTIONS ?? '');
const fromHarness = (k) => HARNESS && (k === 'NODE_OPTIONS' || k.startsWith('_TAPJS_'));

/** State and parent of a process from /proc/PID/stat, or null when there is no such process. */
function procStat(pid) {
  let text;
  try { text = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return null; }
  const m = /^\d+ \(.*\) (\S) (\d+)/s.exec(text);
  return m ? { state: m[1], ppid: Number(m[2]) } : null;
}

/** Alive and not a zombie (a container's PID 1 may never reap orphans). */
function alive(pid) {
  const st = procStat(pid);
  return st !== null && st.state !== 'Z';
}

/**
 * Ended AND reaped by us: no such process, or a zombie whose parent is not
 * this process (an orphan left for PID 1). A zombie child of ours means
 * mediagate never waited for it: that is the leak this catches.
 */
function goneNoZombieOfOurs(pid) {
  const st = procStat(pid);
  return st === null || (st.state === 'Z' && st.ppid !== process.pid);
}

t.test('allowed: each value is exactly one argv element, never shell text', async (t) => {
  const s = setup(t, (dir) => ({
    argv: {
      command: [NODE, '-e', PRINT_ARGV, 'fixed', '{a}', '--flag', '{b}'],
      params: { a: { pattern: '[^\\u0000]{0,200}', required: true }, b: { pattern: '.*' } },
      description: 'print argv',
    },
  }));
  const marker = join(s.dir, 'pwned');
  const values = [
    'two words',
    'a;touch ' + marker,
    '$(touch ' + marker + ')',
    '`touch ' + marker + '`',
    '"double" \'single\'',
    '*',
    '--help',
    'line1\nline2',
    '| tee x && rm -rf ~',
    '',
  ];
  for (const a of values) {
    const r = await runScript(s.config, 'argv', { a, b: '${HOME}' }, admin(s.audit));
    t.equal(r.exitCode, 0, r.stderr);
    t.same(JSON.parse(r.stdout), ['fixed', a, '--flag', '${HOME}'], `${JSON.stringify(a)} stays one element`);
  }
  t.notOk(existsSync(marker), 'no shell ever ran the value');
  const r = await runScript(s.config, 'argv', { a: 'x' }, admin(s.audit));
  t.same(JSON.parse(r.stdout), ['fixed', 'x', '--flag'], 'an optional parameter not given leaves its element out');
  t.same(Object.keys(r).sort(), ['durationMs', 'exitCode', 'script', 'signal', 'stderr', 'stdout', 'timedOut', 'truncated']);
  t.equal(r.signal, null);
  t.equal(r.timedOut, false);
  t.equal(r.truncated, false);
  const ok = s.events.filter((e) => e.action === 'script.run' && e.outcome === 'ok');
  t.equal(ok.length, values.length + 1, 'every run audited');
  t.match(ok[0], { actor: { id: 'local:test' }, target: 'argv', outcome: 'ok' });
  t.match(ok[0].detail, /exit 0 in \d+ ms; params: a="two words" b="\$\{HOME\}"/);
});

t.test('denied: bad parameters are refused before anything runs', async (t) => {
  const s = setup(t, (dir) => ({
    touch: {
      command: ['sh', '-c', `touch '${join(dir, 'ran')}'`, '{name}'],
      params: { name: { pattern: '[a-z]{1,10}', required: true } },
      scope: 'control',
    },
  }));
  const marker = join(s.dir, 'ran');
  const cases = [
    [{ name: 'a;b' }, 'script.invalid_param', 'shell metacharacter ;'],
    [{ name: '$(id)' }, 'script.invalid_param', 'command substitution'],
    [{ name: 'a|b' }, 'script.invalid_param', 'pipe'],
    [{ name: 'abc\n' }, 'script.invalid_param', 'trailing newline (the pattern is anchored: $ is not before a newline)'],
    [{ name: 'ab\ncd' }, 'script.invalid_param', 'newline'],
    [{ name: 'ABC' }, 'script.invalid_param', 'pattern mismatch'],
    [{ name: 'abcdefghijk' }, 'script.invalid_param', 'too long for the pattern'],
    [{ name: '' }, 'script.invalid_param', 'empty'],
    [{ name: 'a\0' }, 'script.invalid_param', 'NUL'],
    [{ name: 'x'.repeat(5000) }, 'script.invalid_param', 'over the length cap'],
    [{ name: 'x'.repeat(1025) }, 'script.invalid_param', 'just over the 1024-character cap'],
    [{ name: 5 }, 'script.invalid_param', 'not text'],
    [{ name: 'ok', extra: 'x' }, 'script.unknown_param', 'an undeclared parameter'],
    [JSON.parse('{"__proto__": "x", "name": "ok"}'), 'script.unknown_param', '__proto__ (as JSON.parse makes it) is not a parameter'],
    [{ constructor: 'x' }, 'script.unknown_param', 'constructor is not a parameter'],
    [{}, 'script.missing_param', 'a required parameter missing'],
  ];
  for (const [params, code, why] of cases) {
    let err;
    try { await runScript(s.config, 'touch', params, admin(s.audit)); } catch (e) { err = e; }
    t.ok(err instanceof MediagateError, `${why}: refused`);
    t.equal(err?.code, code, `${why}: ${code}`);
    t.equal(err?.exitCode, 2, `${why}: exit 2 (API 422; 404 only for unknown scripts)`);
    t.notOk(existsSync(marker), `${why}: nothing ran`);
  }
  let err;
  try { await runScript(s.config, 'touch', { name: 'a;b' }, admin(s.audit)); } catch (e) { err = e; }
  t.match(err.message, /parameter 'name'/, 'the message names the parameter');
  try { await runScript(s.config, 'touch', { bogus: '1' }, admin(s.audit)); } catch (e) { err = e; }
  t.match(err.message, /no parameter 'bogus'/);

  // Scope: a read token may not run a control script; nothing runs.
  try { await runScript(s.config, 'touch', { name: 'ok' }, admin(s.audit, { scope: 'read', actor: { id: 'token:tok_1', label: 'phone' }, ip: '10.0.0.5', requestId: 'req-1' })); } catch (e) { err = e; }
  t.equal(err.code, 'auth.insufficient_scope');
  t.equal(err.exitCode, 4);
  t.notOk(existsSync(marker), 'scope refused: nothing ran');
  // Unknown script.
  try { await runScript(s.config, 'nope', {}, admin(s.audit)); } catch (e) { err = e; }
  t.equal(err.code, 'script.not_found');
  t.equal(err.exitCode, 2);

  const refused = s.events.filter((e) => e.outcome === 'denied');
  t.equal(refused.length, cases.length + 4, 'every refused run audited');
  t.match(refused[0], { action: 'script.run', target: 'touch', outcome: 'denied', actor: { id: 'local:test' } });
  t.match(refused[0].detail, /refused \(script\.invalid_param\).*params: name="a;b"/);
  const long = refused.find((e) => e.detail.includes('xxxx'));
  t.ok(long.detail.length < 400, 'long values are capped in the audit log');
  const scoped = refused.find((e) => e.actor.id === 'token:tok_1');
  t.match(scoped, { ip: '10.0.0.5', requestId: 'req-1', outcome: 'denied' });
  t.match(scoped.detail, /auth\.insufficient_scope/);

  // Allowed with the right scope: control may run a control script.
  const r = await runScript(s.config, 'touch', { name: 'ok' }, admin(s.audit, { scope: 'control' }));
  t.equal(r.exitCode, 0);
  t.ok(existsSync(marker), 'a valid run does run');
});

t.test('timeout kills the whole process tree', async (t) => {
  const s = setup(t, (dir) => ({
    forks: { command: ['sh', '-c', `echo $$ > '${join(dir, 'self')}'; sleep 100 & echo $! > '${join(dir, 'bg')}'; sleep 100`], timeout: 1 },
    stubborn: { command: ['sh', '-c', `trap '' TERM; sleep 100 & echo $! > '${join(dir, 'bg2')}'; while :; do sleep 0.2; done`], timeout: 1 },
    leaves: { command: ['sh', '-c', `sleep 100 >/dev/null 2>&1 & echo $! > '${join(dir, 'bg3')}'; echo done`] },
    holds: { command: ['sh', '-c', `sleep 100 & echo $! > '${join(dir, 'bg4')}'; echo done`] },
  }));
  let r = await runScript(s.config, 'forks', {}, admin(s.audit));
  t.equal(r.timedOut, true);
  t.equal(r.exitCode, null);
  t.equal(r.signal, 'SIGTERM');
  t.ok(r.durationMs >= 900 && r.durationMs < 3000, `stopped after about 1 s (${r.durationMs} ms)`);
  const bg = Number(readFileSync(join(s.dir, 'bg'), 'utf8'));
  await waitFor(() => !alive(bg), { timeoutMs: 3000, what: 'the forked sleep to be gone' });
  t.notOk(alive(bg), `the forked 'sleep 100 &' (pid ${bg}) did not survive`);
  const self = Number(readFileSync(join(s.dir, 'self'), 'utf8'));
  t.ok(self > 0 && self !== bg, 'the script recorded its own pid');
  const st = procStat(self);
  t.ok(goneNoZombieOfOurs(self), `the script itself (pid ${self}) is gone and reaped, not a zombie of ours (${JSON.stringify(st)})`);
  t.ok(goneNoZombieOfOurs(bg), `its child too (${JSON.stringify(procStat(bg))})`);
  t.match(s.events.at(-1), { outcome: 'error', target: 'forks' });
  t.match(s.events.at(-1).detail, /timed out after 1 s/);

  r = await runScript(s.config, 'stubborn', {}, admin(s.audit));
  t.equal(r.timedOut, true);
  t.equal(r.signal, 'SIGKILL', 'a script ignoring SIGTERM gets SIGKILL after the grace period');
  t.ok(r.durationMs < 5000, `${r.durationMs} ms`);
  const bg2 = Number(readFileSync(join(s.dir, 'bg2'), 'utf8'));
  await waitFor(() => !alive(bg2), { timeoutMs: 3000, what: 'bg2 gone' });
  t.notOk(alive(bg2));

  // A script that exits at once leaves nothing behind either, whether or not the child holds its output.
  r = await runScript(s.config, 'leaves', {}, admin(s.audit));
  t.equal(r.exitCode, 0);
  t.equal(r.stdout, 'done\n');
  t.ok(r.durationMs < 3000);
  const bg3 = Number(readFileSync(join(s.dir, 'bg3'), 'utf8'));
  await waitFor(() => !alive(bg3), { timeoutMs: 4000, what: 'bg3 gone' });
  t.notOk(alive(bg3), 'a background child of a finished script is ended');
  r = await runScript(s.config, 'holds', {}, admin(s.audit));
  t.equal(r.exitCode, 0);
  t.ok(r.durationMs < 4000, `a child holding stdout does not hold the run (${r.durationMs} ms)`);
  const bg4 = Number(readFileSync(join(s.dir, 'bg4'), 'utf8'));
  await waitFor(() => !alive(bg4), { timeoutMs: 4000, what: 'bg4 gone' });
  t.notOk(alive(bg4));
});

t.test('output is captured up to the cap, then cut and flagged', async (t) => {
  const s = setup(t, {
    big: { command: ['sh', '-c', "head -c 300000 /dev/zero | tr '\\0' a; echo oops >&2"], maxOutput: 1000 },
    utf8: { command: [NODE, '-e', "process.stdout.write('é'.repeat(1000))"], maxOutput: 101 },
    small: { command: ['sh', '-c', 'echo hello; echo warn >&2; exit 3'] },
  });
  let r = await runScript(s.config, 'big', {}, admin(s.audit));
  t.equal(r.stdout.length, 1000);
  t.equal(r.stdout, 'a'.repeat(1000));
  t.equal(r.stderr, 'oops\n');
  t.equal(r.truncated, true);
  t.equal(r.exitCode, 0, 'the script was not killed for writing more: the rest was read and dropped');
  t.match(s.events.at(-1).detail, /output truncated/);
  r = await runScript(s.config, 'utf8', {}, admin(s.audit));
  t.equal(r.stdout, 'é'.repeat(50), 'cut on a character boundary');
  t.equal(r.truncated, true);
  r = await runScript(s.config, 'small', {}, admin(s.audit));
  t.same([r.exitCode, r.stdout, r.stderr, r.truncated], [3, 'hello\n', 'warn\n', false]);
  t.match(s.events.at(-1), { outcome: 'error' });
  t.match(s.events.at(-1).detail, /exit 3/);
});

t.test('environment is minimal; stdin is closed or the given input', async (t) => {
  const s = setup(t, {
    env: { command: [NODE, '-e', 'process.stdout.write(JSON.stringify(process.env))'], env: { OWN: 'value' } },
    cat: { command: ['cat'] },
  }, { MEDIAGATE_SECRET_KEY: 'xyz', SECRET_TOKEN: 'abc', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nope' });
  const parentEnv = { ...s.env, MEDIAGATE_SECRET_KEY: 'xyz', SECRET_TOKEN: 'abc' };
  let r = await runScript(s.config, 'env', {}, admin(s.audit, { env: parentEnv }));
  const env = JSON.parse(r.stdout);
  t.same(Object.keys(env).filter((k) => !fromHarness(k)).sort(), ['HOME', 'LANG', 'OWN', 'PATH'], 'PATH, HOME, LANG and its own env only');
  t.notOk(Object.keys(env).some((k) => /^MEDIAGATE_|SECRET|DBUS/.test(k)), 'no MEDIAGATE_*, no secret, no bus address');
  t.equal(env.OWN, 'value');
  t.equal(env.PATH, parentEnv.PATH);
  t.notOk('MEDIAGATE_SECRET_KEY' in env);
  r = await runScript(s.config, 'cat', {}, admin(s.audit));
  t.equal(r.stdout, '', 'no input: stdin is closed, cat ends at once');
  r = await runScript(s.config, 'cat', {}, admin(s.audit, { input: '{"event":"x"}\n' }));
  t.equal(r.stdout, '{"event":"x"}\n');
});

t.test('one run at a time per script', async (t) => {
  const s = setup(t, {
    slow: { command: ['sleep', '1'] },
    other: { command: ['true'] },
  });
  const first = runScript(s.config, 'slow', {}, admin(s.audit));
  await new Promise((r) => setTimeout(r, 100));
  let err;
  try { await runScript(s.config, 'slow', {}, admin(s.audit)); } catch (e) { err = e; }
  t.equal(err?.code, 'script.busy');
  t.equal(err?.exitCode, 3, 'exit 3 (API 503 with Retry-After)');
  t.equal((await runScript(s.config, 'other', {}, admin(s.audit))).exitCode, 0, 'other scripts are not blocked');
  const waited = runScript(s.config, 'slow', {}, admin(s.audit, { wait: true }));
  t.equal((await first).exitCode, 0);
  t.equal((await waited).exitCode, 0, 'wait: true (a waiting caller) queues behind the running one');
  t.equal((await runScript(s.config, 'slow', {}, admin(s.audit))).exitCode, 0, 'free again afterwards');
  t.ok(s.events.some((e) => e.outcome === 'denied' && /script\.busy/.test(e.detail)), 'the busy refusal is audited');
});

t.test('a program that cannot be started', async (t) => {
  const s = setup(t, { missing: { command: ['/nonexistent/mg-prog'] } });
  let err;
  try { await runScript(s.config, 'missing', {}, admin(s.audit)); } catch (e) { err = e; }
  t.equal(err?.code, 'script.start_failed');
  t.notMatch(err.message, '/nonexistent', 'the configured path is not echoed');
  t.match(s.events.at(-1), { outcome: 'error' });
});

t.test('config validation: each bad definition is a config error naming the script', async (t) => {
  const ok = { command: ['echo', '{a}'], params: { a: { pattern: '[a-z]+' } } };
  const bad = [
    [{ command: 'echo hi' }, /"command" must be a non-empty array/],
    [{ command: [] }, /"command" must be a non-empty array/],
    [{ command: ['echo', 5] }, /"command" must be a non-empty array of strings/],
    [{}, /"command" must be/],
    [{ command: ['{a}'], params: { a: { pattern: '.*' } } }, /must be a fixed name/],
    [{ command: ['echo', '--file={a}'], params: { a: { pattern: '.*' } } }, /whole argv elements/],
    [{ command: ['echo', '{a}{b}'], params: { a: { pattern: '.*' }, b: { pattern: '.*' } } }, /whole argv elements/],
    [{ command: ['echo', '{undeclared}'] }, /does not declare 'undeclared'/],
    [{ command: ['echo'], params: { a: { pattern: '.*' } } }, /declared but "command" has no \{a\}/],
    [{ ...ok, params: { a: { pattern: '([a-z' } } }, /not a valid regular expression/],
    [{ ...ok, params: { a: {} } }, /needs a "pattern"/],
    [{ ...ok, params: { a: { pattern: '.*', required: 'yes' } } }, /"required" must be true or false/],
    [{ ...ok, params: { a: { pattern: '.*', default: 'x' } } }, /unknown field/],
    [{ ...ok, params: { a: '.*' } }, /must be an object/],
    [{ ...ok, timeout: 0 }, /"timeout"/],
    [{ ...ok, timeout: 301 }, /"timeout"/],
    [{ ...ok, timeout: '10' }, /"timeout"/],
    [{ ...ok, maxOutput: 0 }, /"maxOutput"/],
    [{ ...ok, maxOutput: 1.5 }, /"maxOutput"/],
    [{ ...ok, scope: 'root' }, /"scope"/],
    [{ ...ok, description: 'two\nlines' }, /"description"/],
    [{ ...ok, env: { MEDIAGATE_SECRET_KEY: 'x' } }, /MEDIAGATE_/],
    [{ ...ok, env: { '1BAD': 'x' } }, /not a valid variable name/],
    [{ ...ok, env: { X: 1 } }, /must be a string/],
  ];
  for (const [def, why] of bad) {
    let err;
    try { checkScript('myscript', def); } catch (e) { err = e; }
    t.equal(err?.code, 'script.invalid_definition', `${JSON.stringify(def)} refused`);
    t.equal(err?.exitCode, 5);
    t.match(err?.message, /script 'myscript'/, 'names the script');
    t.match(err?.message, why);
    t.match(err?.hint, /config\.json/, 'says scripts are edited in config.json');
  }
  const good = checkScript('myscript', { ...ok, timeout: 2.5, maxOutput: 10, scope: 'read', description: 'd', env: { A: 'b' } });
  t.match(good, { name: 'myscript', command: ['echo', '{a}'], timeout: 2.5, maxOutput: 10, scope: 'read', description: 'd', env: { A: 'b' } });
  t.equal(good.params.a.regex.source, '^(?:[a-z]+)$', 'patterns are anchored for the owner');
  t.match(checkScript('d', { command: ['true'] }), { timeout: 10, maxOutput: 65536, scope: 'admin', description: null, env: {}, params: {} }, 'defaults');

  // Loaded from a file: the bad one is named, whichever is asked for.
  const s = setup(t, { good: ok, broken: { command: ['echo', '{x}'] } });
  t.throws(() => loadScripts(s.config), { code: 'script.invalid_definition', message: /script 'broken'/ });
});

t.test('listScripts shows name, description, scope and params — never command or env', async (t) => {
  const s = setup(t, {
    lights: { command: ['/opt/secret/path/hue', '{scene}'], params: { scene: { pattern: '[a-z]+', required: true } }, scope: 'control', description: 'Lights', env: { HUE_KEY: 'hunter2' } },
    backup: { command: ['/opt/backup'], timeout: 60 },
    peek: { command: ['true'], scope: 'read' },
  });
  const all = listScripts(s.config);
  t.same(all.map((x) => x.name), ['backup', 'lights', 'peek']);
  t.same(all[1], { name: 'lights', description: 'Lights', scope: 'control', timeout: 10, params: [{ name: 'scene', pattern: '[a-z]+', required: true }] });
  const text = JSON.stringify(all);
  t.notMatch(text, 'hunter2');
  t.notMatch(text, '/opt');
  t.same(listScripts(s.config, 'read').map((x) => x.name), ['peek'], 'a read scope sees only what it may run');
  t.same(listScripts(s.config, 'control').map((x) => x.name), ['lights', 'peek']);
});

t.test('script list / run through the real CLI', async (t) => {
  const s = setup(t, (dir) => ({
    argv: { command: [NODE, '-e', PRINT_ARGV, '{q}'], params: { q: { pattern: '.{1,100}', required: true } }, description: 'echo argv', scope: 'control' },
    env: { command: [NODE, '-e', 'process.stdout.write(JSON.stringify(process.env))'] },
    fail: { command: ['sh', '-c', 'echo partial; echo why >&2; exit 7'] },
    marker: { command: ['touch', join(dir, 'cli-ran'), '{n}'], params: { n: { pattern: '[0-9]+' } } },
    slow: { command: ['sleep', '30'], timeout: 1 },
  }), { MEDIAGATE_SECRET_KEY: 'xyz' });
  const mg = (...args) => runCli(args, { env: s.env });

  let r = await mg('script', 'list');
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^NAME\s+SCOPE\s+PARAMS\s+DESCRIPTION\nargv\s+control\s+q\s+echo argv/);
  t.match(r.stdout, /marker\s+admin\s+\[n\]/, 'optional parameters in brackets');
  r = await mg('script', 'list', '--json');
  t.same(JSON.parse(r.stdout)[0], { name: 'argv', description: 'echo argv', scope: 'control', timeout: 10, params: [{ name: 'q', pattern: '.{1,100}', required: true }] });

  r = await mg('script', 'run', 'argv', '--param', 'q=a b;$(id) "c"=d');
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout), ['a b;$(id) "c"=d'], 'split at the first = only; one argv element');

  r = await mg('script', 'run', '--param', 'q=flag first', 'argv');
  t.same(JSON.parse(r.stdout), ['flag first'], '--param before NAME does not swallow NAME');

  r = await mg('script', 'run', 'env');
  const seen = JSON.parse(r.stdout);
  t.same(Object.keys(seen).filter((k) => !fromHarness(k)).sort(), ['HOME', 'LANG', 'PATH'], 'MEDIAGATE_SECRET_KEY, MEDIAGATE_CONFIG_DIR… are not passed on');
  t.notOk('MEDIAGATE_SECRET_KEY' in seen);
  t.notMatch(r.stdout, 'xyz', 'the secret key value appears nowhere');

  r = await mg('script', 'run', 'fail');
  t.equal(r.code, 1, 'the script exited 7: exit 1');
  t.equal(r.stdout, 'partial\n', 'its output is shown');
  t.match(r.stderr, /why\n[\s\S]*script 'fail' exited with status 7/);
  r = await mg('script', 'run', 'fail', '--json');
  t.equal(r.code, 1);
  t.match(JSON.parse(r.stdout), { script: 'fail', exitCode: 7, stdout: 'partial\n', stderr: 'why\n', timedOut: false, truncated: false });

  r = await mg('script', 'run', 'slow', '--json');
  t.equal(r.code, 1);
  t.match(JSON.parse(r.stdout), { timedOut: true, exitCode: null });

  for (const args of [['--param', 'n=1;rm'], ['--param', 'x=1'], ['--param', 'n'], ['--param', 'n=1', '--param', 'n=2']]) {
    r = await mg('script', 'run', 'marker', ...args);
    t.equal(r.code, 2, `${args.join(' ')}: exit 2`);
    t.notOk(existsSync(join(s.dir, 'cli-ran')), `${args.join(' ')}: nothing ran`);
  }
  r = await mg('script', 'run', 'marker', '--param', 'n=1;rm');
  t.match(r.stderr, /parameter 'n' of script 'marker' does not match its pattern/);
  r = await mg('script', 'run', 'nope');
  t.equal(r.code, 2);
  t.match(r.stderr, /no script named 'nope'/);
  r = await mg('script', 'run', 'marker', '--param', 'n=42');
  t.equal(r.code, 0, r.stderr);
  t.ok(existsSync(join(s.dir, 'cli-ran')));

  // The audit log has the runs and the refusals, with actor and parameters.
  r = await mg('audit', '--action', 'script.run', '--json');
  t.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout);
  t.ok(list.some((e) => e.outcome === 'ok' && e.target === 'argv' && /params: q=/.test(e.detail)), 'a run');
  t.ok(list.some((e) => e.outcome === 'denied' && e.target === 'marker' && /n="1;rm"/.test(e.detail)), 'a refused run with the value');
  t.ok(list.every((e) => /^local:/.test(e.actor.id)), 'actor is the local user');

  // config set cannot write script fields; a broken definition is exit 5 naming the script.
  r = await mg('config', 'set', 'scripts.argv.command', 'rm');
  t.equal(r.code, 5);
  t.match(r.stderr, /edit the "scripts" object in config\.json by hand/);
  writeFileSync(join(s.configDir, 'config.json'), JSON.stringify({ scripts: { bad: { command: ['echo', 'x{y}'], params: { y: { pattern: '.*' } } } } }), { mode: 0o600 });
  r = await mg('script', 'list');
  t.equal(r.code, 5);
  t.match(r.stderr, /script 'bad' in config is invalid: placeholders must be whole argv elements/);
});

t.test('parameter values: at most 1024 characters, checked before the pattern runs', async (t) => {
  const s = setup(t, { echo: { command: [NODE, '-e', PRINT_ARGV, '{v}'], params: { v: { pattern: '.*' } } } });
  const r = await runScript(s.config, 'echo', { v: 'y'.repeat(1024) }, admin(s.audit));
  t.equal(r.exitCode, 0, 'allowed: 1024 characters');
  t.same(JSON.parse(r.stdout), ['y'.repeat(1024)]);
  let err;
  try { await runScript(s.config, 'echo', { v: 'y'.repeat(1025) }, admin(s.audit)); } catch (e) { err = e; }
  t.equal(err?.code, 'script.invalid_param', 'denied: 1025 characters');
  t.match(err?.message, /parameter 'v' of script 'echo' is too long \(over 1024 characters\)/);
});

t.test('a backtracking pattern is cut off: the value is refused after the time limit, nothing runs', async (t) => {
  const s = setup(t, (dir) => ({ evil: { command: [NODE, '-e', `require('fs').writeFileSync(${JSON.stringify(join(dir, 'ran'))}, 'x')`, '{v}'], params: { v: { pattern: '(a+)+b' } } } }));
  const ok = await runScript(s.config, 'evil', { v: 'aaab' }, admin(s.audit));
  t.equal(ok.exitCode, 0, 'allowed: a matching value runs');
  t.ok(existsSync(join(s.dir, 'ran')));
  unlinkSync(join(s.dir, 'ran'));
  // 2^40 steps of backtracking without the limit: the run below would never end.
  const started = performance.now();
  let err;
  try { await runScript(s.config, 'evil', { v: `${'a'.repeat(40)}c` }, admin(s.audit)); } catch (e) { err = e; }
  const ms = performance.now() - started;
  t.equal(err?.code, 'script.invalid_param', 'denied: the pattern test ran out of time');
  t.match(err?.message, /parameter 'v' of script 'evil' was refused: checking it against its pattern took over 50 ms/);
  t.ok(ms < 5000, `gave up after ${ms.toFixed(0)} ms, not after the heat death of the universe`);
  t.notOk(existsSync(join(s.dir, 'ran')), 'nothing ran');
  t.ok(s.events.some((e) => e.action === 'script.run' && e.outcome === 'denied' && /took over 50 ms/.test(e.detail)), 'the refusal is audited');
});

/** Start `mediagate script run NAME` as a process we can signal; resolves {child, done: Promise<{code, signal, stderr}>}. */
function startCliRun(env, args) {
  const child = spawn(process.execPath, [BIN, 'script', 'run', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  child.stdout.resume();
  const done = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stderr })));
  return { child, done };
}

t.test('Ctrl-C / SIGTERM / SIGHUP during `script run` end the script and are audited as interrupted', async (t) => {
  const s = setup(t, (dir) => ({
    long: { command: ['sh', '-c', `echo $$ > '${dir}'/pid-$1; exec sleep 60`, 'sh', '{tag}'], params: { tag: { pattern: '[a-z]+', required: true } }, timeout: 120 },
  }));
  const base = s.dir;
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    const tag = sig.slice(3).toLowerCase();
    const pidFile = join(base, `pid-${tag}`);
    const run = startCliRun(s.env, ['long', '--param', `tag=${tag}`]);
    t.teardown(() => { try { run.child.kill('SIGKILL'); } catch {} });
    const pid = await waitFor(() => existsSync(pidFile) && Number(readFileSync(pidFile, 'utf8')), { timeoutMs: 20000, what: `the ${tag} script to start` });
    t.ok(alive(pid), `${sig}: the script (sleep 60, pid ${pid}) is running`);
    run.child.kill(sig);
    const { code, signal, stderr } = await run.done;
    t.equal(signal, null, `${sig}: mediagate was not killed by the signal; it handled it`);
    t.equal(code, { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 }[sig], `${sig}: exit ${code}`);
    t.match(stderr, new RegExp(`script 'long' was stopped \\(with everything it started\\): mediagate got ${sig}`));
    // Generous grace: the group gets SIGTERM at once, SIGKILL 2 s later.
    await waitFor(() => !alive(pid), { timeoutMs: 5000, what: `${sig}: the script to be gone` });
    t.notOk(alive(pid), `${sig}: the script's sleep 60 (pid ${pid}) is gone`);
  }
  const r = await runCli(['audit', '--action', 'script.run', '--json'], { env: s.env });
  t.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    const tag = sig.slice(3).toLowerCase();
    const e = list.find((x) => x.target === 'long' && x.detail.includes(`tag="${tag}"`));
    t.ok(e, `${sig}: the run is in the audit log`);
    t.match(e, { outcome: 'error', actor: { id: /^local:/ } });
    t.match(e?.detail, new RegExp(`^interrupted \\(${sig}\\), killed by SIGTERM in \\d+ ms; params: tag="${tag}"`));
  }
});

t.test('malformed --param flags are refused (exit 2) and audited as script.run with what was given', async (t) => {
  const s = setup(t, (dir) => ({ marker: { command: ['touch', join(dir, 'ran'), '{n}'], params: { n: { pattern: '[0-9]+' } } } }));
  const mg = (...args) => runCli(args, { env: s.env });
  let r = await mg('script', 'run', 'marker', '--param', 'n');
  t.equal(r.code, 2);
  t.match(r.stderr, /--param must be NAME=VALUE \(got 'n'\)/);
  r = await mg('script', 'run', 'marker', '--param', 'n=1', '--param', 'n=2');
  t.equal(r.code, 2);
  t.match(r.stderr, /--param n is given twice/);
  r = await mg('script', 'run', 'marker', '--param', `=${'z'.repeat(500)}`);
  t.equal(r.code, 2);
  t.notOk(existsSync(join(s.dir, 'ran')), 'nothing ran');
  r = await mg('audit', '--action', 'script.run', '--json');
  const denied = JSON.parse(r.stdout).filter((e) => e.outcome === 'denied' && e.target === 'marker');
  t.equal(denied.length, 3, 'each refusal audited');
  t.ok(denied.every((e) => /^local:/.test(e.actor.id)), 'with the local actor');
  t.match(denied[0].detail, /^refused \(usage\.invalid_param\): --param must be NAME=VALUE.*; params: raw "n"$/);
  t.match(denied[1].detail, /given twice; params: raw "n=1" "n=2"$/);
  t.ok(denied[2].detail.length < 400, 'a long value is capped in the audit log');
  t.match(denied[2].detail, /params: raw "=z{63}…"$/);
});
