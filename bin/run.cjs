#!/usr/bin/env node
'use strict';
// Entry point. Hot commands (status, play/pause/…, seek, volume) go straight
// to their handlers through the fast path — one bundled CommonJS file built
// from src/cli/entry.ts that reads the generated oclif manifest and never
// loads @oclif/core. Everything else (help, errors, other commands) goes
// through oclif. CommonJS here because Node 20 loads one CJS file much faster
// than a graph of ES modules (measured in bench/).
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { normalizeArgv, runFast } = loadFast(join(__dirname, '..', 'dist', 'fast.cjs'));

const argv = normalizeArgv(process.argv.slice(2));
runFast(argv, join(__dirname, '..', 'oclif.manifest.json')).then(async (code) => {
  if (code === undefined) {
    const { execute } = await import('@oclif/core');
    await execute({ dir: pathToFileURL(__filename).href, args: argv });
  } else {
    process.exitCode = code;
  }
  // Let the event loop drain (pending audit writes finish); if a stuck handle
  // would keep the process alive, leave anyway.
  setTimeout(() => process.exit(), 1500).unref();
});

/**
 * require() the fast path with V8's code cache (fast.cjs.cache, written by
 * scripts/bundle.js): Node 20 has no module compile cache, and compiling the
 * 120 KB bundle is ~2 ms of every cold start. A cache from another Node/V8
 * is rejected by V8 and the file is simply compiled; without the cache file
 * this is a plain require().
 */
function loadFast(file) {
  const fs = require('node:fs');
  let cachedData;
  try { cachedData = fs.readFileSync(`${file}.cache`); } catch { return require(file); }
  const vm = require('node:vm');
  const Module = require('node:module');
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, require('node:path').dirname(file));
  return mod.exports;
}
