'use strict';
// Load the fast-path bundle with a V8 code cache kept per user, for Nodes
// without module.enableCompileCache (Node 20). Compiling the bundle, and then
// lazily each function a command runs, is a large part of a cold start there;
// V8 can skip it with bytecode from an earlier run.
//
// The cache is written once, at exit after a fast-path run (so it holds the
// functions that run compiled, not only the top level — made at build time it
// saved little), and only when it was missing or V8 rejected it. It lives in
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
const MAGIC = 'MGCC1';
const hex8 = (n) => n.toString(16).padStart(8, '0');
const HEAD = MAGIC.length + 16;

/** What a cache file starts with: MAGIC, then the length and CRC-32 of V8's bytes (8 hex digits each). */
const header = (data) => `${MAGIC}${hex8(data.length)}${hex8(crc32(data))}`;

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
  return `fast-${process.version}-${process.arch}-${hex8(Buffer.byteLength(source))}${hex8(crc32(source))}.cache`;
}

const none = (state, writable) => ({ data: undefined, state, writable });

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
    const raw = fs.readFileSync(fd);
    const data = raw.subarray(HEAD);
    if (raw.length < HEAD || raw.toString('latin1', 0, HEAD) !== header(data)) return none('damaged', true);
    return { data, state: 'used', writable: true };
  } catch (e) {
    return none(`ignored: ${e.code}`, false);
  } finally {
    fs.closeSync(fd);
  }
}

/** Write the cache atomically (temp file, then rename) into a 0700 dir. */
function writeCache(dir, file, uid, data) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const dirStat = fs.lstatSync(dir);
  if (!dirStat.isDirectory() || !trusted(dirStat, uid)) return;
  const tmp = path.join(dir, `.${file}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, header(data), null, 'latin1');
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
 * the bundle's exports and keep(): call it when the run was a fast-path one,
 * to write the cache at exit if it was missing or rejected. Where the cache
 * cannot work (no getuid) this is a plain require().
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
  if (script.cachedDataRejected === true) cache.state = 'rejected by V8';
  const debug = env.MEDIAGATE_DEBUG_CODE_CACHE ? (line) => process.stderr.write(`code cache: ${line}\n`) : () => {};
  debug(`${cache.state} ${dir === undefined ? '' : path.join(dir, file)}`);
  return {
    exports: mod.exports,
    keep() {
      if (cache.state === 'used' || !cache.writable) return;
      process.once('exit', () => {
        try {
          writeCache(dir, file, uid, script.createCachedData());
          debug('written');
        } catch (e) {
          // a cache is an optimisation: never fail a run over it
          debug(`not written: ${e.message}`);
        }
      });
    },
  };
}

module.exports = { loadWithCodeCache, cacheDir };
