#!/usr/bin/env node
// Entry point. Hot commands (status, play/pause/…, seek, volume) go straight
// to their handlers through the fast path, which reads the generated oclif
// manifest and never loads @oclif/core; everything else (help, errors,
// other commands) goes through oclif.
import { normalizeArgv } from '../dist/cli/argv.js';
import { runFast } from '../dist/cli/fast.js';

const argv = normalizeArgv(process.argv.slice(2));
const code = await runFast(argv);
if (code === undefined) {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url, args: argv });
} else {
  process.exitCode = code;
}
// Let the event loop drain (pending audit writes finish); if a stuck handle
// would keep the process alive, leave anyway.
setTimeout(() => process.exit(), 1500).unref();
