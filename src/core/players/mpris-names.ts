/**
 * One MPRIS player may own several bus names (VLC 3 owns
 * `org.mpris.MediaPlayer2.vlc` and `…vlc.instance<PID>`, each on a
 * connection of its own): mediagate lists it once, under one name. Names of
 * one connection are one player; so are `X` and `X.instance<N>` owned by
 * connections of one process. Pure: the bus calls are the caller's.
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
export interface NameGroup { name: string; aliases: string[]; owner: string | undefined }

export function groupByOwner(names: readonly string[], owners: ReadonlyArray<string | undefined>): NameGroup[] {
  const groups = new Map<string, { owner: string | undefined; names: string[] }>();
  names.forEach((n, i) => {
    const key = owners[i] ?? `\0${n}`;
    const g = groups.get(key);
    if (g) g.names.push(n); else groups.set(key, { owner: owners[i], names: [n] });
  });
  return [...groups.values()].map((g) => {
    const name = canonicalName(g.names);
    return { name, aliases: g.names.filter((n) => n !== name), owner: g.owner };
  });
}

/** [base, instance] indexes of groups named `X` and `X.instance<N>` on different connections: maybe one player. */
export function instancePairs(groups: readonly NameGroup[]): Array<[number, number]> {
  const at = new Map(groups.map((g, i) => [g.name, i]));
  const pairs: Array<[number, number]> = [];
  groups.forEach((g, i) => {
    const base = withoutInstance(g.name);
    const b = base === undefined ? undefined : at.get(base);
    if (b !== undefined && g.owner !== undefined && groups[b]!.owner !== undefined) pairs.push([b, i]);
  });
  return pairs;
}

/** The groups with each confirmed [base, instance] pair made one: the instance's names become the base's aliases. */
export function mergeGroups(groups: readonly NameGroup[], pairs: ReadonlyArray<[number, number]>): NameGroup[] {
  const into = new Map(pairs.map(([b, i]) => [i, b]));
  const out = groups.map((g) => ({ ...g, aliases: [...g.aliases] }));
  for (const [i, b] of into) out[b]!.aliases.push(groups[i]!.name, ...groups[i]!.aliases);
  return out.filter((_, i) => !into.has(i));
}
