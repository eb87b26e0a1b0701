'use strict';
// Load the fast-path bundle with a V8 code cache kept per user, for Nodes
// without module.enableCompileCache (Node 20). Compiling the bundle, and then
// lazily each function a command runs, is a large part of a cold start there;
// V8 can skip it with bytecode from an earlier run.
//
// The cache is written at exit after a fast-path run (so it holds the
// functions that run compiled, not only the top level — made at build time it
// saved little): when it was missing or V8 rejected it, and when the run is
// not yet covered: no earlier run of the same command took all of its
// backends and mixers (see covered()). Each command and backend compiles its
// own functions, and V8's data after a run holds what came from the cache
// plus what this run compiled, so the cache grows into the union of what
// this user runs, one rewrite per new command or backend (a cache made after
// `status` alone left `volume +5` ~3 ms slower, 2.09× `node -e 0` against
// 1.92×, for good). It lives in
// $MEDIAGATE_CACHE_DIR, else $XDG_CACHE_HOME/mediagate, else
// ~/.cache/mediagate, under a name made of the Node version, the arch and a
// hash of the bundle's text, so another build or another Node never picks up
// a stale one (V8 itself checks only the source length).
//
// Cached bytecode is code: a cache file is used only when it and its
// directory belong to this user and neither is writable by group or others;
// otherwise it is ignored and nothing is written there. A damaged file never
// reaches V8: the file carries the length and CRC-32 of V8's bytes, because
// Node 20's V8 does not check its own checksum (bytes flipped in the middle
// were taken, or crashed the process, when tried). What V8 refuses itself
// (another V8, other flags) shows as cachedDataRejected. Either way the
// bundle is compiled from source and the cache written anew.
// zlib.crc32 (Node ≥ 20.15) and not node:crypto: loading crypto costs ~5 ms,
// zlib ~1.
const fs = require('node:fs');
const path = require('node:path');
const { crc32 } = require('node:zlib');

const UNSAFE_BITS = 0o022; // group- or world-writable
const MAGIC = 'MGCC2';
const hex = (n, width) => n.toString(16).padStart(width, '0');
const FIXED = MAGIC.length + 20; // MAGIC, two 8-digit and one 4-digit hex numbers
// The commands a cache was made after: manifest ids and the code paths the
// run took (play:status+mpd+mpris), at most MAX_KEYS of them.
const KEY = /^[a-z][a-z0-9:+-]{0,79}$/;
const MAX_KEYS = 32;

/**
 * What a cache file starts with: MAGIC, the length of V8's bytes, the CRC-32
 * of the key list and V8's bytes, the key list's length (hex), then the key
 * list (the runs it was made after, comma-separated).
 */
function header(keys, data) {
  const list = keys.join(',');
  return `${MAGIC}${hex(data.length, 8)}${hex(crc32(data, crc32(list)), 8)}${hex(list.length, 4)}${list}`;
}

/** The key list and V8's bytes of a cache file, or undefined if it is damaged. */
function parse(raw) {
  if (raw.length < FIXED || raw.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
  const listLength = Number.parseInt(raw.toString('latin1', FIXED - 4, FIXED), 16);
  if (!(listLength >= 0) || raw.length < FIXED + listLength) return undefined;
  const list = raw.toString('latin1', FIXED, FIXED + listLength);
  const keys = list === '' ? [] : list.split(',');
  if (keys.length > MAX_KEYS || !keys.every((k) => KEY.test(k))) return undefined;
  const data = raw.subarray(FIXED + listLength);
  return raw.toString('latin1', 0, FIXED + listLength) === header(keys, data) ? { keys, data } : undefined;
}

/** The directory of the per-user cache (not created here). */
function cacheDir(env) {
  if (env.MEDIAGATE_CACHE_DIR) return env.MEDIAGATE_CACHE_DIR;
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || require('node:os').homedir(), '.cache');
  return path.join(base, 'mediagate');
}

/** A directory or open file may hold code we run: ours, and no one else can write it. */
function trusted(stat, uid) {
  return stat.uid === uid && (stat.mode & UNSAFE_BITS) === 0;
}

/** Cache file name for this bundle text on this Node. */
function cacheName(source) {
  return `fast-${process.version}-${process.arch}-${hex(Buffer.byteLength(source), 8)}${hex(crc32(source), 8)}.cache`;
}

/** Whether a run of `key` (command+path+…) is covered: the same command was run with all of its paths, or more. */
function covered(keys, key) {
  const [command, ...paths] = key.split('+');
  return keys.some((k) => {
    const [c, ...p] = k.split('+');
    return c === command && paths.every((x) => p.includes(x));
  });
}

const none = (state, writable) => ({ data: undefined, keys: [], state, writable });

/**
 * Read the cache if it can be trusted. Returns {data} (V8's bytes, or
 * undefined), {state} (why not, for MEDIAGATE_DEBUG_CODE_CACHE) and whether
 * a new cache may be written there.
 */
function readCache(dir, file, uid) {
  let dirStat;
  try {
    dirStat = fs.lstatSync(dir);
  } catch (e) {
    return none(e.code === 'ENOENT' ? 'missing' : 'ignored: directory unreadable', e.code === 'ENOENT');
  }
  if (!dirStat.isDirectory() || !trusted(dirStat, uid)) return none('ignored: directory not private to this user', false);
  let fd;
  try {
    fd = fs.openSync(path.join(dir, file), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (e) {
    return none(e.code === 'ENOENT' ? 'missing' : `ignored: ${e.code}`, e.code === 'ENOENT');
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || !trusted(st, uid)) return none('ignored: file not private to this user', false);
    const got = parse(fs.readFileSync(fd));
    if (!got) return none('damaged', true);
    return { data: got.data, keys: got.keys, state: 'used', writable: true };
  } catch (e) {
    return none(`ignored: ${e.code}`, false);
  } finally {
    fs.closeSync(fd);
  }
}

/** Write the cache atomically (temp file, then rename) into a 0700 dir. */
function writeCache(dir, file, uid, keys, data) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const dirStat = fs.lstatSync(dir);
  if (!dirStat.isDirectory() || !trusted(dirStat, uid)) return;
  const tmp = path.join(dir, `.${file}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, header(keys, data), null, 'latin1');
    fs.writeSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(dir, file));
  pruneOld(dir, file);
}

const WEEK_MS = 7 * 24 * 3600 * 1000;

/**
 * Remove other builds' caches (and temp files of writers that died) not
 * written for a week. Not at once: two installs (a checkout and a global
 * one) share the directory, and would otherwise evict each other every run.
 */
function pruneOld(dir, keep) {
  const old = Date.now() - WEEK_MS;
  for (const name of fs.readdirSync(dir)) {
    if (name === keep || !/^\.?fast-.*\.(cache|tmp)$/.test(name)) continue;
    const file = path.join(dir, name);
    if (fs.lstatSync(file).mtimeMs < old) fs.rmSync(file, { force: true });
  }
}

/**
 * require() `bundle` through vm.Script with the per-user code cache. Returns
 * the bundle's exports and keep(command): call it when the run was a
 * fast-path one, naming what ran (fastCommand(): the command and the code
 * paths it took), to write the cache at exit if it was missing or rejected,
 * or does not cover that run yet. Where
 * the cache cannot work (no getuid) this is a plain require().
 */
function loadWithCodeCache(bundle, env = process.env) {
  if (typeof process.getuid !== 'function') return { exports: require(bundle), keep() {} };
  const vm = require('node:vm');
  // The CommonJS loader's class, which has wrap() and createRequire();
  // require('node:module') would also compile the ES module loader (~1 ms).
  const Module = module.constructor;
  const uid = process.getuid();
  const source = fs.readFileSync(bundle, 'utf8');
  let dir, file;
  let cache;
  try {
    dir = cacheDir(env);
    file = cacheName(source);
    cache = readCache(dir, file, uid);
  } catch (e) {
    cache = none(`ignored: ${e.message}`, false);
  }
  const script = new vm.Script(Module.wrap(source), {
    filename: bundle,
    cachedData: cache.data,
  });
  // The bundle's import() calls (see scripts/bundle.js): a vm.Script's own
  // import() does not survive Node 20's code cache. Bare and node: specifiers
  // resolve the same from here as from dist/.
  globalThis[Symbol.for('mediagate.import')] = (specifier) => import(specifier);
  const mod = { exports: {}, filename: bundle, id: bundle, loaded: false };
  script.runInThisContext()(mod.exports, Module.createRequire(bundle), mod, bundle, path.dirname(bundle));
  mod.loaded = true;
  if (script.cachedDataRejected === true) Object.assign(cache, { state: 'rejected by V8', keys: [] }); // compiled anew: this run's functions only
  const debug = env.MEDIAGATE_DEBUG_CODE_CACHE ? (line) => process.stderr.write(`code cache: ${line}\n`) : () => {};
  debug(`${cache.state} ${dir === undefined || file === undefined ? '' : path.join(dir, file)}`);
  return {
    exports: mod.exports,
    keep(command) {
      if (!cache.writable) return;
      const add = typeof command === 'string' && KEY.test(command) && !covered(cache.keys, command) && cache.keys.length < MAX_KEYS;
      if (cache.state === 'used' && !add) return;
      const keys = add ? [...cache.keys, command] : cache.keys;
      process.once('exit', () => {
        try {
          writeCache(dir, file, uid, keys, script.createCachedData());
          debug(`written (${keys.join(', ')})`);
        } catch (e) {
          // a cache is an optimisation: never fail a run over it
          debug(`not written: ${e.message}`);
        }
      });
    },
  };
}

module.exports = { loadWithCodeCache, cacheDir };
