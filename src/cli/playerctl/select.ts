/**
 * Which players a playerctl command addresses, and in which order — as
 * playerctl decides it: names in byte order; `-p a,b` selects those (a name
 * matches itself and `name.<anything>`; `%any` matches every player) and
 * orders them by their place in the list, the players `%any` stands for at
 * its place; `-i` removes names. The first player able to do the command
 * runs it (all of them with -a).
 */
export const ANY = '%any';

/** playerctl's name match: `vlc` matches `vlc` and `vlc.instance42`; `%any` matches everything. */
export function nameMatches(wanted: string, instance: string): boolean {
  return wanted === ANY || instance === wanted || instance.startsWith(`${wanted}.`);
}

export function isSelected(instance: string, players: readonly string[], ignored: readonly string[]): boolean {
  if (ignored.some((n) => nameMatches(n, instance))) return false;
  return players.length === 0 || players.some((n) => nameMatches(n, instance));
}

/** playerctl's comparison of two instances under a `-p` list (0: keep their order). */
export function comparePriority(a: string, b: string, players: readonly string[]): number {
  if (a === b) return 0;
  const anyAt = players.indexOf(ANY);
  const any = anyAt < 0 ? Number.MAX_SAFE_INTEGER : anyAt;
  const rank = (x: string): number => players.findIndex((n) => n !== ANY && nameMatches(n, x));
  const ra = rank(a);
  const rb = rank(b);
  if (ra < 0 && rb < 0) return 0;
  if (ra < 0) return rb < any ? 1 : -1;
  if (rb < 0) return ra < any ? -1 : 1;
  return ra === rb ? 0 : ra < rb ? -1 : 1;
}

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The selected instances in the order playerctl tries them. */
export function orderPlayers(instances: readonly string[], players: readonly string[], ignored: readonly string[]): string[] {
  return instances
    .filter((n) => isSelected(n, players, ignored))
    .sort(byteOrder)
    .sort((a, b) => comparePriority(a, b, players));
}
