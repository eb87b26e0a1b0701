// The per-user V8 code cache of the fast-path bundle (bin/code-cache.cjs),
// on Nodes without module.enableCompileCache: written after a fast-path
// run, then used, and written again only the first time another command,
// or a backend not run yet, runs (it grows into the union of what is run); ignored (and never rewritten) where someone else could
// have written it; a damaged or refused one costs nothing but a recompile and
// is written anew; one made for another bundle is never picked up. Every run
// is the real built CLI against a real MPD, and its output must be what a run
// without any cache prints.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import {
  chmodSync, chownSync, cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync,
  statSync, symlinkSync, truncateSync, utimesSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import Module from 'node:module';
import { crc32 } from 'node:zlib';
import { freePort, startMpd } from './helpers/mpd.js';
import { BIN, ROOT, cliEnv } from './helpers/cli.js';
import { tempDir } from './helpers/proc.js';

if (Module.enableCompileCache) {
  t.pass(`Node ${process.version} has module.enableCompileCache; bin/run.cjs uses that, not this cache`);
  process.exit(0);
}

const PREFIX = `fast-${process.version}-${process.arch}-`;
const stable = (text) => text.replace(/"positionUpdatedAt": "[^"]+"/g, '"positionUpdatedAt": "…"');

/** The code-cache debug lines of a run: states ('used', 'written', …) and the commands a written cache was made after. */
function debugLines(stderr) {
  const lines = [...stderr.matchAll(/^code cache: (.*?)(?: \/\S+| \(([^)]*)\))?$/gm)];
  const written = lines.find((m) => m[1] === 'written');
  return { states: lines.map((m) => m[1]), madeAfter: written ? written[2].split(', ') : undefined };
}

/** Run `node [nodeArgs] bin [args]` (default: status --json); returns {code, stdout, states, madeAfter}. */
function status(env, { bin = BIN, nodeArgs = [], args = ['status', '--json'] } = {}) {
  const r = spawnSync(process.execPath, [...nodeArgs, bin, ...args], { env, encoding: 'utf8', timeout: 20000 });
  return { code: r.status, stdout: stable(r.stdout), stderr: r.stderr, ...debugLines(r.stderr) };
}

/** The one cache file in `dir` (its name and stat). */
function theCache(t, dir) {
  const names = readdirSync(dir).filter((n) => n.startsWith(PREFIX));
  t.equal(names.length, 1, `one cache file in ${dir}`);
  const file = join(dir, names[0]);
  return { name: names[0], file, stat: lstatSync(file) };
}

/** A paused MPD and an environment whose cache dir is private and empty; `expected` is the output of a run with no cache. */
async function setup(t) {
  const mpd = await startMpd(t);
  mpd.mpc('-q', 'play', '2');
  mpd.mpc('-q', 'pause');
  mpd.mpc('-q', 'seek', '10');
  const { env, base } = cliEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port), MEDIAGATE_DEBUG_CODE_CACHE: '1' });
  const cacheDir = join(base, 'cache');
  const none = status({ ...env, MEDIAGATE_CACHE_DIR: join(base, 'unused-cache') });
  t.equal(none.code, 0, 'status works');
  t.match(none.stdout, /"playing"|"paused"/);
  return { env: { ...env, MEDIAGATE_CACHE_DIR: cacheDir }, cacheDir, base, expected: none.stdout };
}

/** Run once more and check: right output, the given state, and whether it (re)wrote the cache. */
function expectRun(t, env, expected, state, { written, opts } = {}) {
  const r = status(env, opts);
  t.equal(r.code, 0, `${state}: exit 0`);
  t.equal(r.stdout, expected, `${state}: same output as without a cache`);
  t.equal(r.states[0], state, `cache ${state}`);
  t.equal(r.states.includes('written'), written, written ? 'cache written' : 'cache not written');
  return r;
}

t.test('written after a fast-path run, private, then used and left alone', async (t) => {
  const { env, cacheDir, expected } = await setup(t);
  expectRun(t, env, expected, 'missing', { written: true });
  const first = theCache(t, cacheDir);
  t.equal(first.stat.mode & 0o777, 0o600, 'cache file 0600');
  t.equal(statSync(cacheDir).mode & 0o777, 0o700, 'cache dir 0700');
  t.equal(first.stat.uid, process.getuid(), 'owned by this user');
  expectRun(t, env, expected, 'used', { written: false });
  expectRun(t, env, expected, 'used', { written: false });
  const again = theCache(t, cacheDir);
  t.equal(again.stat.ino, first.stat.ino, 'same file');
  t.equal(again.stat.mtimeMs, first.stat.mtimeMs, 'not rewritten');
  t.same(readdirSync(cacheDir), [first.name], 'no temp files left');

  // Code taken from the cache can still import() lazily (volume --target
  // system loads node:child_process for wpctl/amixer), without warnings.
  const noDebug = (text) => text.replace(/^code cache: .*\n/gm, '');
  const vol = (e) => spawnSync(process.execPath, [BIN, 'volume', '--target', 'system'], { env: e, encoding: 'utf8' });
  const plainVol = vol({ ...env, MEDIAGATE_CACHE_DIR: join(cacheDir, '..', 'vol-none') });
  const cachedVol = vol(env);
  t.match(cachedVol.stderr, /^code cache: used/m, 'volume ran from the cache');
  t.equal(cachedVol.status, plainVol.status, 'volume: same exit code');
  t.equal(noDebug(cachedVol.stderr), noDebug(plainVol.stderr), 'volume: same message');
  t.notMatch(cachedVol.stderr + plainVol.stderr, /dynamic import|ExperimentalWarning/);

  // A command that leaves the fast path (oclif) writes nothing.
  const other = { ...env, MEDIAGATE_CACHE_DIR: join(cacheDir, '..', 'oclif-cache') };
  const r = spawnSync(process.execPath, [BIN, 'config', 'list'], { env: other, encoding: 'utf8' });
  t.equal(r.status, 0);
  t.match(r.stderr, /^code cache: missing/m);
  t.notMatch(r.stderr, /code cache: written/);
});

/** A cache file's parts: the commands it was made after and V8's bytes (the layout bin/code-cache.cjs writes). */
function cacheParts(raw) {
  const n = Number.parseInt(raw.toString('latin1', 21, 25), 16);
  return { keys: raw.toString('latin1', 25, 25 + n).split(',').filter(Boolean), data: raw.subarray(25 + n) };
}

/** A cache file with a well-formed header (right lengths and CRC) for any key list. */
function cacheFile(keys, data) {
  const list = keys.join(',');
  const hex = (v, w) => v.toString(16).padStart(w, '0');
  return Buffer.concat([Buffer.from(`MGCC2${hex(data.length, 8)}${hex(crc32(data, crc32(list)), 8)}${hex(list.length, 4)}${list}`, 'latin1'), data]);
}

t.test('another command adds its code once: the cache grows into the union of the commands run', async (t) => {
  const { env, cacheDir, expected } = await setup(t);
  const volume = (e = env) => status(e, { args: ['volume', '--target', 'system'] });
  // status with no player named opens both backends
  const statusKey = 'play:status+mpd+mpris';
  let r = expectRun(t, env, expected, 'missing', { written: true });
  t.same(r.madeAfter, [statusKey], 'made after status, on MPD and MPRIS');
  expectRun(t, env, expected, 'used', { written: false });
  t.same(status(env, { args: ['status', '--json', '--player', 'mpd'] }).states, ['used'], 'status on MPD alone: covered, not rewritten');

  r = volume();
  t.same(r.states, ['used', 'written'], 'volume: the cache is used, then written again');
  t.equal(r.madeAfter?.length, 2);
  t.equal(r.madeAfter?.[0], statusKey);
  t.match(r.madeAfter?.[1], /^volume\+mixer-/, 'then volume, with the mixers it tried');
  const union = theCache(t, cacheDir);
  t.same(cacheParts(readFileSync(union.file)).keys, r.madeAfter, 'the file names both');
  t.same(volume().states, ['used'], 'volume again: used, not rewritten');
  expectRun(t, env, expected, 'used', { written: false });
  t.equal(theCache(t, cacheDir).stat.mtimeMs, union.stat.mtimeMs, 'left alone since');
  t.same(status(env, { args: ['config', 'list'] }).states, ['used'], 'an oclif command adds nothing');

  // denied: a key list changed without its CRC
  const good = readFileSync(union.file);
  writeFileSync(union.file, Buffer.from(good.toString('latin1').replace('volume', 'volumf'), 'latin1'));
  r = expectRun(t, env, expected, 'damaged', { written: true });
  t.same(r.madeAfter, [statusKey], 'written anew, for this run only');
  // denied: a list with a malformed key or a length past the end, even with a right CRC
  const { data } = cacheParts(good);
  for (const [what, raw] of [
    ['a key with a space', cacheFile(['play:status', 'bad key'], data)],
    ['a key with a comma in the wrong place', cacheFile(['', 'volume'], data)],
    ['a list length past the end', Buffer.concat([cacheFile([], Buffer.alloc(0)).subarray(0, 21), Buffer.from('ffff', 'latin1')])],
    ['a 33rd key', cacheFile(Array.from({ length: 33 }, (_, i) => `cmd${i}`), data)],
  ]) {
    writeFileSync(union.file, raw);
    r = expectRun(t, env, expected, 'damaged', { written: true });
    t.same(r.madeAfter, [statusKey], `${what}: damaged, written anew`);
  }
  // allowed: a full list (32 commands) is used and never grows
  writeFileSync(union.file, cacheFile(Array.from({ length: 32 }, (_, i) => `cmd${i}`), data));
  t.same(volume().states, ['used'], 'full: a new command is not added');
  t.equal(cacheParts(readFileSync(union.file)).keys.length, 32);

  // A backend not run yet adds its code too: status on MPD first, then on both.
  const env2 = { ...env, MEDIAGATE_CACHE_DIR: join(cacheDir, '..', 'cache2') };
  r = status(env2, { args: ['status', '--json', '--player', 'mpd'] });
  t.same(r.madeAfter, ['play:status+mpd']);
  r = expectRun(t, env2, expected, 'used', { written: true });
  t.same(r.madeAfter, ['play:status+mpd', statusKey], 'MPRIS added');
});

t.test('where it lives without MEDIAGATE_CACHE_DIR: $XDG_CACHE_HOME/mediagate, else ~/.cache/mediagate', async (t) => {
  const { env, base, expected } = await setup(t);
  const plain = { ...env };
  delete plain.MEDIAGATE_CACHE_DIR;
  expectRun(t, plain, expected, 'missing', { written: true });
  theCache(t, join(base, 'home', '.cache', 'mediagate'));
  const xdg = join(base, 'xdg');
  expectRun(t, { ...plain, XDG_CACHE_HOME: xdg }, expected, 'missing', { written: true });
  theCache(t, join(xdg, 'mediagate'));
  t.equal(statSync(join(xdg, 'mediagate')).mode & 0o777, 0o700, 'made 0700');
});

t.test('a cache someone else could have written is ignored and not rewritten', async (t) => {
  const { env, cacheDir, expected } = await setup(t);
  expectRun(t, env, expected, 'missing', { written: true });
  const made = theCache(t, cacheDir);
  const untouched = (what) => {
    const now = theCache(t, cacheDir);
    t.equal(now.stat.mtimeMs, made.stat.mtimeMs, `${what}: not rewritten`);
    t.equal(now.stat.ino, made.stat.ino, `${what}: not replaced`);
  };

  // allowed: a 0755 dir of ours (nobody else can write it)
  chmodSync(cacheDir, 0o755);
  expectRun(t, env, expected, 'used', { written: false });

  // denied: group- or world-writable dir
  for (const mode of [0o775, 0o757, 0o1777]) {
    chmodSync(cacheDir, mode);
    expectRun(t, env, expected, 'ignored: directory not private to this user', { written: false });
    untouched(`dir ${mode.toString(8)}`);
  }
  chmodSync(cacheDir, 0o700);
  expectRun(t, env, expected, 'used', { written: false });

  // denied: group- or world-writable file
  for (const mode of [0o620, 0o602, 0o666]) {
    chmodSync(made.file, mode);
    expectRun(t, env, expected, 'ignored: file not private to this user', { written: false });
    untouched(`file ${mode.toString(8)}`);
  }
  chmodSync(made.file, 0o600);
  // allowed: read-only for us (0400) is still ours alone
  chmodSync(made.file, 0o400);
  expectRun(t, env, expected, 'used', { written: false });
  chmodSync(made.file, 0o600);

  // denied: a symlink at the cache's name, even to a good cache of ours
  const elsewhere = join(cacheDir, '..', 'elsewhere');
  mkdirSync(elsewhere, { mode: 0o700 });
  renameSync(made.file, join(elsewhere, made.name));
  symlinkSync(join(elsewhere, made.name), made.file);
  expectRun(t, env, expected, 'ignored: ELOOP', { written: false });
  t.ok(lstatSync(made.file).isSymbolicLink(), 'the symlink is left, not written through or replaced');
  t.equal(statSync(join(elsewhere, made.name)).mtimeMs, made.stat.mtimeMs, 'its target is not rewritten');
});

t.test('a cache file or dir owned by another user is ignored', { skip: process.getuid() !== 0 && 'needs root to chown' }, async (t) => {
  const { env, cacheDir, expected } = await setup(t);
  expectRun(t, env, expected, 'missing', { written: true });
  const made = theCache(t, cacheDir);
  chownSync(made.file, 65534, 65534);
  expectRun(t, env, expected, 'ignored: file not private to this user', { written: false });
  t.equal(theCache(t, cacheDir).stat.uid, 65534, 'not replaced');
  chownSync(made.file, 0, 0);
  expectRun(t, env, expected, 'used', { written: false });
  chownSync(cacheDir, 65534, 65534);
  expectRun(t, env, expected, 'ignored: directory not private to this user', { written: false });
  t.equal(theCache(t, cacheDir).stat.mtimeMs, made.stat.mtimeMs, 'not rewritten');
  chownSync(cacheDir, 0, 0);
  expectRun(t, env, expected, 'used', { written: false });
});

t.test('a damaged or refused cache: right output, compiled from source, written anew', async (t) => {
  const { env, cacheDir, expected } = await setup(t);
  expectRun(t, env, expected, 'missing', { written: true });
  const { file } = theCache(t, cacheDir);
  const good = readFileSync(file);

  const damage = {
    // V8 in Node 20 takes or crashes on these itself (it does not check its checksum)
    'bytes flipped in the middle': (b) => { const c = Buffer.from(b); for (const i of [5000, 50000, 150000]) c[i % c.length] ^= 0xff; return c; },
    'truncated to half': (b) => b.subarray(0, b.length >> 1),
    'empty': () => Buffer.alloc(0),
    'bytes appended': (b) => Buffer.concat([b, Buffer.from('junk')]),
    'a wrong CRC in the header': (b) => { const c = Buffer.from(b); c[20] = c[20] === 0x30 ? 0x31 : 0x30; return c; },
  };
  for (const [what, change] of Object.entries(damage)) {
    writeFileSync(file, change(good));
    t.notSame(readFileSync(file), good, `${what}: file changed`);
    expectRun(t, env, expected, 'damaged', { written: true });
    t.equal(theCache(t, cacheDir).stat.size > 1000, true, `${what}: a whole cache again`);
    expectRun(t, env, expected, 'used', { written: false });
  }

  // A whole cache V8 refuses itself: made under other V8 flags.
  truncateSync(file, 0);
  const flagged = { opts: { nodeArgs: ['--no-lazy-feedback-allocation'] } };
  expectRun(t, env, expected, 'damaged', { written: true, ...flagged });
  expectRun(t, env, expected, 'rejected by V8', { written: true });
  expectRun(t, env, expected, 'used', { written: false });
});

t.test('a cache made for another bundle is never used', async (t) => {
  // No player at all, so the output is the bundle's own error message.
  const { env: base, cacheDir } = await setup(t);
  const env = { ...base, MPD_PORT: String(await freePort()) };
  const copy = tempDir(t, 'mg-other-build-');
  for (const p of ['bin', 'dist/fast.cjs', 'dist/fast-manifest.json', 'dist/dbus-next.cjs', 'oclif.manifest.json', 'package.json']) cpSync(join(ROOT, p), join(copy, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  // Another build of the same length: V8 alone would take this build's cache for it.
  const bundle = join(copy, 'dist', 'fast.cjs');
  const text = readFileSync(bundle, 'utf8');
  t.ok(text.includes('no media player found'));
  t.notOk(text.includes('no media player FOUND'));
  writeFileSync(bundle, text.replaceAll('no media player found', 'no media player FOUND'));
  t.equal(statSync(bundle).size, statSync(join(ROOT, 'dist', 'fast.cjs')).size, 'same length');

  let r = status(env);
  t.equal(r.code, 3);
  t.match(r.stderr, /no media player found/);
  t.same(r.states, ['missing', 'written']);
  const ours = theCache(t, cacheDir);
  r = status(env, { bin: join(copy, 'bin', 'run.cjs') });
  t.equal(r.code, 3);
  t.match(r.stderr, /no media player FOUND/, "the other build's own code ran");
  t.same(r.states, ['missing', 'written'], 'its own cache, not ours');
  const names = readdirSync(cacheDir).filter((n) => n.startsWith(PREFIX)).sort();
  t.equal(names.length, 2, 'one cache per build, side by side');
  t.ok(names.includes(ours.name), "ours kept (only week-old caches of other builds are pruned)");
  r = status(env, { bin: join(copy, 'bin', 'run.cjs') });
  t.match(r.stderr, /no media player FOUND/);
  t.same(r.states, ['used']);
  r = status(env);
  t.match(r.stderr, /no media player found/);
  t.same(r.states, ['used']);

  // Writing a cache prunes other builds' caches last written over a week ago.
  const theirs = names.find((n) => n !== ours.name);
  const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
  utimesSync(join(cacheDir, theirs), eightDaysAgo, eightDaysAgo);
  writeFileSync(join(cacheDir, ours.name), '');
  r = status(env);
  t.same(r.states, ['damaged', 'written']);
  t.same(readdirSync(cacheDir), [ours.name], "the week-old cache of the other build is gone");
});
