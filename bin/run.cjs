#!/usr/bin/env node
'use strict';
// Entry point. Hot commands (status, play/pause/…, seek, volume) go straight
// to their handlers through the fast path — one bundled CommonJS file built
// from src/cli/entry.ts that reads the generated oclif manifest and never
// loads @oclif/core. Everything else (help, errors, other commands) goes
// through oclif. CommonJS here because Node 20 loads one CJS file much faster
// than a graph of ES modules (measured in bench/).
// Compiled code is kept on disk between runs: Node 22.1+ does it itself
// (module.enableCompileCache: the bundle and, on the oclif path, its ES
// modules), called before anything else is loaded; older Nodes load the
// bundle through ./code-cache.cjs, a per-user V8 code cache written after a
// fast-path run.
// On Node 20 not even require('node:module'): it compiles the ES module
// loader and the source-map support (~1 ms), none of which a hot command uses.
const [major, minor] = process.versions.node.split('.').map(Number);
const { enableCompileCache } = major > 22 || (major === 22 && minor >= 1) ? require('node:module') : {};
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const bundle = join(__dirname, '..', 'dist', 'fast.cjs');
let fast;
if (enableCompileCache) {
  enableCompileCache();
  fast = { exports: require(bundle), keep() {} };
} else {
  fast = require('./code-cache.cjs').loadWithCodeCache(bundle);
}
const { commandLine, runFast } = fast.exports;

// Invoked as `playerctl` (a symlink or copy of this file): the playerctl mode.
const argv = commandLine(process.argv[1], process.argv.slice(2));
runFast(argv, join(__dirname, '..', 'dist', 'fast-manifest.json')).then(async (code) => {
  if (code === undefined) {
    const { execute } = await import('@oclif/core');
    await execute({ dir: pathToFileURL(__filename).href, args: argv });
  } else {
    process.exitCode = code;
    fast.keep(fast.exports.fastCommand());
  }
  // Let the event loop drain (pending audit writes finish); if a stuck handle
  // would keep the process alive, leave anyway. Once it has drained, leave
  // through process.exit() all the same: ending on its own, Node also tears
  // down the V8 heap, ~1.3 ms of a hot command (median of 150 interleaved
  // runs of `volume`). Node 22+ writes its compile cache on either way out.
  setTimeout(() => process.exit(), 1500).unref();
  process.once('beforeExit', () => process.exit());
});
