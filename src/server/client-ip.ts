/**
 * Who is the client? The direct peer — unless the peer is a reverse proxy we
 * were told to trust (`server.trustedProxies`, CIDR list), in which case the
 * address comes from `X-Forwarded-For`, read from the right: each trusted
 * hop is skipped and the first address that is NOT trusted is the client.
 * Everything left of it was written by the client and may be forged.
 *
 * A hop that is not an IP address (`unknown`, an obfuscated name, garbage)
 * ends the walk: we cannot know who wrote what lies to its left, so the
 * client is taken to be the last trusted hop seen (never an address we
 * cannot vouch for). IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is treated as the
 * IPv4 address, everywhere.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ConfigError } from '../core/errors.js';

/** A parsed address: IPv4 as one 32-bit number, IPv6 as eight 16-bit groups. */
export type ParsedIp = { family: 4; v4: number } | { family: 6; groups: readonly number[] };

export interface Cidr {
  readonly family: 4 | 6;
  readonly prefix: number;
  /** The text it came from, normalised (e.g. `10.0.0.0/8`). */
  readonly text: string;
  contains(ip: ParsedIp): boolean;
}

/** Most hops of X-Forwarded-For examined (a longer chain is not ours). */
const MAX_HOPS = 32;

function v4ToNumber(text: string): number {
  const p = text.split('.');
  return ((+p[0]! << 24) | (+p[1]! << 16) | (+p[2]! << 8) | +p[3]!) >>> 0;
}

function numberToV4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** IPv6 text (already validated by node:net) → eight groups. */
function v6Groups(text: string): number[] {
  let s = text;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  const after = s.slice(lastColon + 1);
  if (after.includes('.')) {
    // Embedded IPv4 tail ("::ffff:1.2.3.4", "64:ff9b::1.2.3.4"): two groups.
    const n = v4ToNumber(after);
    tail.push(n >>> 16, n & 0xffff);
    const prefix = s.slice(0, lastColon + 1);
    s = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  let groups: number[];
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    const head = parse(s.slice(0, dbl));
    const rest = parse(s.slice(dbl + 2));
    const fill = 8 - tail.length - head.length - rest.length;
    groups = [...head, ...new Array<number>(Math.max(0, fill)).fill(0), ...rest, ...tail];
  } else {
    groups = [...parse(s), ...tail];
  }
  return groups;
}

/**
 * Parse an IP address (IPv4, IPv6, IPv6 with a `%zone`, which is ignored).
 * IPv4-mapped IPv6 becomes IPv4. Anything else → null.
 */
export function parseIp(text: string): ParsedIp | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return null;
  if (isIPv4(text)) return { family: 4, v4: v4ToNumber(text) };
  const pct = text.indexOf('%');
  const bare = pct >= 0 ? text.slice(0, pct) : text;
  if (!isIPv6(bare)) return null;
  const g = v6Groups(bare);
  if (g.length !== 8 || g.some((x) => !(x >= 0 && x <= 0xffff))) return null;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return { family: 4, v4: ((g[6]! << 16) | g[7]!) >>> 0 };
  }
  return { family: 6, groups: g };
}

/** Canonical text (RFC 5952 for IPv6: lower case, longest zero run as `::`). */
export function formatIp(ip: ParsedIp): string {
  if (ip.family === 4) return numberToV4(ip.v4);
  const g = ip.groups;
  let bestStart = -1;
  let bestLen = 1; // a single zero group is not compressed
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: readonly number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Normalise an address's text: canonical form, mapped IPv4 unwrapped; null if not an IP. */
export function normalizeIp(text: string): string | null {
  const p = parseIp(text);
  return p ? formatIp(p) : null;
}

function makeCidr(family: 4 | 6, net: ParsedIp, prefix: number, text: string): Cidr {
  if (family === 4) {
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const base = ((net as { v4: number }).v4 & mask) >>> 0;
    return { family, prefix, text, contains: (ip) => ip.family === 4 && ((ip.v4 & mask) >>> 0) === base };
  }
  const groups = (net as { groups: readonly number[] }).groups;
  return {
    family, prefix, text,
    contains(ip) {
      if (ip.family !== 6) return false;
      let bits = prefix;
      for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
        const m = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
        if ((ip.groups[i]! & m) !== (groups[i]! & m)) return false;
      }
      return true;
    },
  };
}

/**
 * Parse one CIDR (`10.0.0.0/8`, `fd00::/8`, `::ffff:10.0.0.0/104`) or a bare
 * address (a single host). Host bits must be zero, so `192.168.1.10/24` —
 * which usually means someone meant one host — is an error naming both readings.
 */
export function parseCidr(text: string, what = 'server.trustedProxies'): Cidr {
  const bad = (why: string): never => {
    throw new ConfigError(`${what}: '${String(text).slice(0, 80)}' ${why}`,
      'write each entry as an address or a CIDR range, e.g. 127.0.0.1, 10.0.0.0/8, fd00::/8', 'config.invalid_value');
  };
  if (typeof text !== 'string') return bad('is not text');
  const s = text.trim();
  const slash = s.indexOf('/');
  const addrText = slash >= 0 ? s.slice(0, slash) : s;
  const ip = parseIp(addrText);
  if (!ip || addrText.includes('%')) return bad('is not an IP address or CIDR range');
  const mappedInput = ip.family === 4 && !isIPv4(addrText);
  const maxBits = mappedInput ? 128 : ip.family === 4 ? 32 : 128;
  let prefix = maxBits;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || +p > maxBits) return bad(`has an invalid prefix length (0–${maxBits})`);
    prefix = +p;
  }
  if (mappedInput) {
    // ::ffff:a.b.c.d/N covers IPv4 addresses only when N ≥ 96.
    if (prefix < 96) return bad('is an IPv4-mapped range shorter than /96; write the IPv4 or IPv6 range you mean');
    prefix -= 96;
  }
  const net = ip;
  const cidr = makeCidr(net.family, net, prefix, '');
  // host bits set?
  const zeroed = net.family === 4
    ? { family: 4 as const, v4: prefix === 0 ? 0 : (net.v4 & ((0xffffffff << (32 - prefix)) >>> 0)) >>> 0 }
    : { family: 6 as const, groups: net.groups.map((g, i) => { const bits = prefix - i * 16; return bits >= 16 ? g : bits <= 0 ? 0 : g & ((0xffff << (16 - bits)) & 0xffff); }) };
  const netText = formatIp(zeroed);
  if (formatIp(net) !== netText) {
    return bad(`has bits set after the /${prefix} prefix: did you mean the range ${netText}/${prefix} or the single address ${formatIp(net)}?`);
  }
  return { ...cidr, text: `${netText}/${prefix}`, contains: cidr.contains };
}

/** A set of trusted proxy ranges. */
export class TrustedProxies {
  readonly cidrs: readonly Cidr[];

  constructor(list: readonly string[] = [], what = 'server.trustedProxies') {
    if (!Array.isArray(list)) throw new ConfigError(`${what} must be a list of addresses or CIDR ranges`, undefined, 'config.invalid_value');
    const problems: string[] = [];
    const cidrs: Cidr[] = [];
    for (const entry of list) {
      try { cidrs.push(parseCidr(entry, what)); } catch (e) { problems.push((e as Error).message); }
    }
    if (problems.length === 1) throw new ConfigError(problems[0]!, 'write each entry as an address or a CIDR range, e.g. 127.0.0.1, 10.0.0.0/8, fd00::/8', 'config.invalid_value');
    if (problems.length > 1) throw new ConfigError(`${what} has ${problems.length} invalid entries: ${problems.join('; ')}`, undefined, 'config.invalid_value');
    this.cidrs = cidrs;
  }

  get empty(): boolean {
    return this.cidrs.length === 0;
  }

  contains(ip: ParsedIp): boolean {
    for (const c of this.cidrs) if (c.contains(ip)) return true;
    return false;
  }
}

/** One X-Forwarded-For hop → address, accepting `a.b.c.d`, `a.b.c.d:port`, `v6`, `[v6]`, `[v6]:port`. */
function parseHop(raw: string): ParsedIp | null {
  const s = raw.trim();
  if (s.length === 0 || s.length > 64) return null;
  if (s[0] === '[') {
    const end = s.indexOf(']');
    if (end < 0) return null;
    const rest = s.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    const ip = parseIp(s.slice(1, end));
    return ip && !s.includes('%') ? ip : null;
  }
  const colon = s.indexOf(':');
  if (colon >= 0 && colon === s.lastIndexOf(':')) {
    // IPv4 with a port
    if (!/^:\d{1,5}$/.test(s.slice(colon))) return null;
    const v4 = s.slice(0, colon);
    return isIPv4(v4) ? parseIp(v4) : null;
  }
  if (s.includes('%')) return null;
  return parseIp(s);
}

/**
 * The client's address for rate limiting, lockout and the audit log.
 * `forwardedFor` is the X-Forwarded-For header as node gives it (one string,
 * several headers already joined with ", ") or as a list of header values.
 */
export function clientIp(peer: string | undefined, forwardedFor: string | readonly string[] | undefined, trusted: TrustedProxies): string {
  const raw = peer ?? '';
  if (trusted.empty) {
    if (isIPv4(raw)) return raw; // the common case: nothing to canonicalise
    const p = parseIp(raw);
    return p ? formatIp(p) : raw;
  }
  const peerParsed = parseIp(raw);
  if (!peerParsed) return raw;
  const peerIp = formatIp(peerParsed);
  if (!trusted.contains(peerParsed)) return peerIp;
  if (forwardedFor === undefined) return peerIp;
  const joined = typeof forwardedFor === 'string' ? forwardedFor : forwardedFor.join(',');
  if (joined.length === 0) return peerIp;
  const hops = joined.split(',');
  let current = peerIp;
  for (let i = hops.length - 1, seen = 0; i >= 0 && seen < MAX_HOPS; i--, seen++) {
    const hop = parseHop(hops[i]!);
    if (!hop) return current; // cannot vouch for anything further left
    const text = formatIp(hop);
    if (!trusted.contains(hop)) return text;
    current = text; // a trusted proxy: keep walking left
  }
  return current;
}

/**
 * The key to count a client under: the IPv4 address, or the /64 an IPv6
 * address belongs to (one subscriber usually holds a whole /64, so counting
 * single IPv6 addresses would give one client 2^64 buckets).
 */
export function rateLimitKey(ip: string): string {
  if (isIPv4(ip)) return ip;
  const p = parseIp(ip);
  if (!p) return ip;
  if (p.family === 4) return formatIp(p);
  return `${formatIp({ family: 6, groups: [...p.groups.slice(0, 4), 0, 0, 0, 0] })}/64`;
}
