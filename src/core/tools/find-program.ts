import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * The full path of program `name`: the first executable file of that name on
 * PATH, then in `extraDirs` (launchd jobs start with a minimal PATH, so on
 * macOS Homebrew's /opt/homebrew/bin and /usr/local/bin are searched too).
 * Undefined when there is none. Never runs anything.
 */
export function findProgram(name: string, env: NodeJS.ProcessEnv, extraDirs: readonly string[] = []): string | undefined {
  if (isAbsolute(name)) return isExecutableFile(name) ? name : undefined;
  const path = env.PATH ?? env.Path ?? '';
  const dirs = [...path.split(delimiter).filter((d) => d !== '' && isAbsolute(d)), ...extraDirs];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    if (process.platform !== 'win32') accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where Homebrew puts programs on Apple silicon and on Intel Macs. */
export const MACOS_EXTRA_DIRS: readonly string[] = ['/opt/homebrew/bin', '/usr/local/bin'];
