import { nodeCrypto } from './lazy-builtins.js';

/** Crockford's base32 alphabet: no I, L, O, U (they look like 1, 1, 0, V). */
export const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Bytes → Crockford base32, 5 bits a character, most significant first (10 bytes → 16 chars). */
export function crockfordEncode(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += CROCKFORD[(acc << (5 - bits)) & 31];
  return out;
}

/** A short random id such as `tok_7k2m9q4x`: prefix + 8 lowercase Crockford chars (40 bits). */
export function randomId(prefix: string): string {
  return `${prefix}_${crockfordEncode(nodeCrypto().randomBytes(5)).toLowerCase()}`;
}
