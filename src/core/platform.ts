/**
 * Which operating system's backends mediagate uses: the one it runs on, or
 * MEDIAGATE_PLATFORM (linux, darwin, win32) when set — for tests, which run
 * the macOS and Windows backends here against fake `media-control`,
 * `osascript` and `powershell.exe` programs placed first on PATH. Setting it
 * only chooses which backends are tried (and so which programs are looked
 * for); it grants nothing and changes nothing else.
 */
export type Platform = 'linux' | 'darwin' | 'win32';

const KNOWN: ReadonlySet<string> = new Set(['linux', 'darwin', 'win32']);

export function platformOf(env: NodeJS.ProcessEnv = process.env): Platform {
  const forced = env.MEDIAGATE_PLATFORM;
  if (forced && KNOWN.has(forced)) return forced as Platform;
  const p = process.platform;
  // The BSDs and other Unix desktops have MPRIS and the same mixers as Linux.
  return p === 'darwin' || p === 'win32' ? p : 'linux';
}
