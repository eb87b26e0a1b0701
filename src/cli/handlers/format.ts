/** Small renderers shared by the token and invite handlers. */

/** `2030-01-31 14:05` (UTC, minutes) or `never`. */
export function when(iso: string | null | undefined): string {
  if (!iso) return 'never';
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z`;
}

/** `in 3d`, `5m ago`, `now`. */
export function relative(iso: string | null | undefined, now: Date): string {
  if (!iso) return 'never';
  const d = Date.parse(iso) - now.getTime();
  const abs = Math.abs(d);
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  if (abs < 1000) return 'now';
  // Pick the unit with a little slack so "1d from now", read a moment later, says 1d rather than 23h.
  const [u, size] = units.find(([, s]) => abs >= s * 0.98) ?? ['s', 1000];
  const n = Math.max(1, Math.round(abs / size));
  return d >= 0 ? `in ${n}${u}` : `${n}${u} ago`;
}

/** A plain text table: columns padded to the widest cell, two spaces apart. */
export function table(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length))).join('  ').trimEnd());
}
