/**
 * One MPRIS player may own several bus names on one connection (VLC owns
 * `org.mpris.MediaPlayer2.vlc` and `…vlc.instance<PID>`): mediagate lists it
 * once, under one name. Pure: the bus calls are the caller's.
 */

const INSTANCE = /\.instance\d+$/;

/** `vlc.instance4242` → `vlc`; undefined for a name without an instance suffix. */
export function withoutInstance(name: string): string | undefined {
  const base = name.replace(INSTANCE, '');
  return base !== name && base !== '' ? base : undefined;
}

/**
 * The name a player goes by among the names its connection owns: one
 * without an `.instance<N>` suffix wins, then the shorter, then the first
 * alphabetically (so the choice does not depend on the order names appeared).
 */
export function canonicalName(names: Iterable<string>): string {
  let best: string | undefined;
  for (const n of names) {
    if (best === undefined) { best = n; continue; }
    const a = [INSTANCE.test(n) ? 1 : 0, n.length];
    const b = [INSTANCE.test(best) ? 1 : 0, best.length];
    if (a[0]! < b[0]! || (a[0] === b[0] && (a[1]! < b[1]! || (a[1] === b[1] && n < best)))) best = n;
  }
  if (best === undefined) throw new Error('canonicalName of no names');
  return best;
}

/**
 * Names grouped by the connection that owns them: one entry per player, its
 * canonical name and the others as aliases, in the order of `names` (by each
 * group's first name). A name whose owner is unknown (it left meanwhile) is
 * a group of its own.
 */
export function groupByOwner(names: readonly string[], owners: ReadonlyArray<string | undefined>): Array<{ name: string; aliases: string[] }> {
  const groups = new Map<string, string[]>();
  names.forEach((n, i) => {
    const key = owners[i] ?? `\0${n}`;
    const g = groups.get(key);
    if (g) g.push(n); else groups.set(key, [n]);
  });
  return [...groups.values()].map((g) => {
    const name = canonicalName(g);
    return { name, aliases: g.filter((n) => n !== name) };
  });
}
