#!/usr/bin/env node
// Generate oclif.manifest.json from the compiled commands (what `oclif manifest`
// does, without pulling in the oclif packaging tool and its dependency tree).
// The fast path in bin/ and the man pages are generated from the same file.
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
