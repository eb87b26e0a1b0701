#!/usr/bin/env node
// `npm run install:node-versions`: the official Node.js binaries of the other
// majors the tests run on (test/helpers/node-versions.js), from their npm
// packages, into a cache dir; nothing else is downloaded. Already there: kept.
import { installNode, NODE_LEG_MAJORS, nodeCacheDir } from '../test/helpers/node-versions.js';

for (const major of NODE_LEG_MAJORS) {
  const r = installNode(major);
  console.log(`Node ${major}: ${r.version} ${r.installed ? 'installed in' : 'already in'} ${nodeCacheDir()}`);
}
