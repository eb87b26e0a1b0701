import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The directory of the installed mediagate package (where package.json is),
 * found by walking up from this module: the same from dist/core/*.js and
 * from the bundled dist/fast.cjs. Files the package ships for other
 * programs (the Windows helper script) are found from here.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try { if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'mediagate') return (root = dir); } catch { /* keep looking */ }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the mediagate package directory');
    dir = up;
  }
}
