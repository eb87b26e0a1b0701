#!/usr/bin/env node
// Generate oclif.manifest.json from the compiled commands (what `oclif manifest`
// does, without pulling in the oclif packaging tool and its dependency tree).
// The man pages are generated from the same file, and the fast path in bin/
// reads a slim copy of it, dist/fast-manifest.json.
import { Plugin } from '@oclif/core';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, isRoot: true });
await plugin.load();
const manifest = plugin.manifest;
// Drop absolute paths so the file is the same on every machine.
for (const cmd of Object.values(manifest.commands)) {
  delete cmd.isESM;
  delete cmd.relativePath;
  cmd.pluginName = 'mediagate';
}
// oclif leaves multipleNonGreedy out of the manifest; the fast path needs it
// (it parses a repeatable flag as one value per occurrence, as that setting does).
for (const loadable of plugin.commands) {
  const cls = await loadable.load();
  for (const [name, flag] of Object.entries(cls.flags ?? {})) {
    if (flag.multipleNonGreedy) manifest.commands[loadable.id].flags[name].multipleNonGreedy = true;
  }
}
writeFileSync(join(root, 'oclif.manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
console.error(`oclif.manifest.json: ${Object.keys(manifest.commands).length} commands`);

// The fast path's copy (src/cli/fast.ts): every command, but only what it
// parses with (names, aliases, flag kinds, args), one line. Reading and
// parsing the whole manifest (~110 KB of help text) cost ~1 ms of every hot
// command's start.
const pick = (o, keys) => Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
const slim = Object.fromEntries(Object.entries(manifest.commands).map(([id, cmd]) => [id, {
  ...pick(cmd, ['id', 'aliases', 'strict']),
  flags: Object.fromEntries(Object.entries(cmd.flags).map(([n, f]) => [n, pick(f, ['name', 'type', 'char', 'multiple', 'multipleNonGreedy', 'options', 'default'])])),
  args: Object.fromEntries(Object.entries(cmd.args).map(([n, a]) => [n, pick(a, ['name', 'required'])])),
}]));
const fastManifest = JSON.stringify({ commands: slim });
writeFileSync(join(root, 'dist', 'fast-manifest.json'), `${fastManifest}\n`);
console.error(`dist/fast-manifest.json: ${(fastManifest.length / 1024).toFixed(1)} KiB`);
