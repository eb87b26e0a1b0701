/**
 * The named code paths this process has taken: the player backends it
 * opened, the system mixers it tried. Nothing here changes behaviour; the
 * CLI keys its per-user code cache by command and paths (bin/code-cache.cjs),
 * because `status` on MPD and `status` on MPRIS compile different functions.
 */
const taken = new Set<string>();

/** Note that this process took the path `name` (lower-case letters, digits, '-'). */
export function tookCodePath(name: string): void {
  taken.add(name);
}

/** The paths taken so far, sorted. */
export function codePathsTaken(): string[] {
  return [...taken].sort();
}
