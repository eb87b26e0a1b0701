// The other Node.js majors the hot-path, serve and security-core tests run
// on (besides the Node that runs `npm test`): their official binaries, from
// the npm packages node-<platform>-<arch>@MAJOR, installed into a cache dir
// by `npm run install:node-versions` (the README's install command calls it).
// Shared by that script, the test legs (scripts/node-legs.js) and bench:cli.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The majors tested besides the one running the suite. */
export const NODE_LEG_MAJORS = [22, 24];

/**
 * The test files each leg runs (`npm run test:node-legs`): a small set that
 * covers what differs between Node majors where it matters — the hot path
 * (the fast-path bundle and oclif, with the compile cache 22+ enables), serve
 * (HTTP, WebSocket, control on a real MPD) and the security core (tokens,
 * audit chain, concurrent state writes). About a minute and a half each.
 */
export const NODE_LEG_FILES = [
  'test/fast-path.test.js',
  'test/serve-control.test.js',
  'test/serve-routes.test.js',
  'test/tokens.test.js',
  'test/audit.test.js',
  'test/security-concurrency.test.js',
];

const pkgName = () => `node-${process.platform}-${process.arch}`;

/** Where the binaries live: $MEDIAGATE_NODE_CACHE, else $XDG_CACHE_HOME/mediagate/node (~/.cache/…). */
export function nodeCacheDir(env = process.env) {
  if (env.MEDIAGATE_NODE_CACHE) return env.MEDIAGATE_NODE_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mediagate', 'node');
}

const binaryPath = (major, env) => join(nodeCacheDir(env), `node-${major}`, 'node_modules', pkgName(), 'bin', 'node');

/** The installed binary of `major` ({path, version}), or null when it is missing or another major. */
export function nodeBinary(major, env = process.env) {
  const path = binaryPath(major, env);
  if (!existsSync(path)) return null;
  try {
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
    return version.startsWith(`v${major}.`) ? { path, version } : null;
  } catch {
    return null;
  }
}

/** Install `major` into the cache dir unless it is there already. Returns {path, version, installed}. */
export function installNode(major, env = process.env) {
  const have = nodeBinary(major, env);
  if (have) return { ...have, installed: false };
  const prefix = join(nodeCacheDir(env), `node-${major}`);
  execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `${pkgName()}@${major}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  const got = nodeBinary(major, env);
  if (!got) throw new Error(`${pkgName()}@${major} installed into ${prefix}, but no Node ${major} binary runs from it`);
  return { ...got, installed: true };
}
