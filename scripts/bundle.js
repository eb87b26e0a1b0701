#!/usr/bin/env node
// Bundle the fast path (dist/cli/entry.js and everything it imports from this
// package) into one CommonJS file, dist/fast.cjs, for bin/run.cjs. Packages
// from node_modules stay external and load lazily, as in the source.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [join(root, 'dist/cli/entry.js')],
  outfile: join(root, 'dist/fast.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
