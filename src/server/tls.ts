/**
 * The TLS side of `serve`: which protocol versions, cipher suites and key
 * exchange groups it offers (the profile), and the secure context built from
 * a certificate, its key and that profile — at start and again on SIGHUP
 * (tlsContext → server.setSecureContext: connections already open keep the
 * context they were made with; new handshakes get the new one).
 *
 * Profiles follow Mozilla's server-side TLS guidelines:
 *
 * - `intermediate` (default): TLS 1.2 and 1.3. TLS 1.2 offers only ECDHE key
 *   exchange with AEAD ciphers (AES-GCM, ChaCha20-Poly1305), for ECDSA and
 *   RSA certificates alike — no CBC (LUCKY13 and friends), no RSA key
 *   exchange (no forward secrecy, ROBOT), no finite-field DHE (Mozilla's list
 *   has three DHE suites; left out here: ECDHE is everywhere intermediate's
 *   clients are, and DHE would need a dhparam file).
 *   One departure from Mozilla: the server's order is honoured. Mozilla
 *   leaves the choice to the client because every suite on the list is
 *   strong; that stays true, and scanners (testssl.sh 3.0) rate "no server
 *   cipher order" HIGH, so the server picks from the same list in the same
 *   order.
 * - `modern`: TLS 1.3 only, its three suites, the client's choice (as Mozilla says).
 *
 * Both: groups X25519, P-256, P-384.
 */
import { createSecureContext, type SecureContextOptions } from 'node:tls';

export const TLS_PROFILES = ['intermediate', 'modern'] as const;
export type TlsProfile = (typeof TLS_PROFILES)[number];
export const DEFAULT_TLS_PROFILE: TlsProfile = 'intermediate';

/** TLS 1.3's suites, in Mozilla's order. */
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/** TLS 1.2: ECDHE + AEAD only, Mozilla intermediate's order without its DHE suites. */
const TLS12_SUITES = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

const GROUPS = 'X25519:P-256:P-384';

type ProfileOptions = Required<Pick<SecureContextOptions, 'minVersion' | 'maxVersion' | 'ciphers' | 'ecdhCurve' | 'honorCipherOrder'>>;

const PROFILES: Record<TlsProfile, ProfileOptions> = {
  intermediate: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: [...TLS13_SUITES, ...TLS12_SUITES].join(':'), ecdhCurve: GROUPS, honorCipherOrder: true },
  modern: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: TLS13_SUITES.join(':'), ecdhCurve: GROUPS, honorCipherOrder: false },
};

export function isTlsProfile(v: unknown): v is TlsProfile {
  return typeof v === 'string' && (TLS_PROFILES as readonly string[]).includes(v);
}

/** The protocol, cipher and group settings of `profile` (a copy). */
export function profileOptions(profile: TlsProfile): ProfileOptions {
  return { ...PROFILES[profile] };
}

/** One line for logs and the audit: `intermediate (TLS 1.2 AEAD + 1.3)`. */
export function describeProfile(profile: TlsProfile): string {
  return profile === 'modern' ? 'modern (TLS 1.3 only)' : 'intermediate (TLS 1.2 ECDHE+AEAD, TLS 1.3)';
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  passphrase?: string | undefined;
}

/** Options for https.createServer / server.setSecureContext: the material under `profile`. */
export function tlsOptions(material: TlsMaterial, profile: TlsProfile): SecureContextOptions {
  return { ...PROFILES[profile], cert: material.cert, key: material.key, passphrase: material.passphrase };
}

/**
 * Check that `material` makes a working context under `profile` (parsable
 * PEM, the key opens with its passphrase and matches the certificate);
 * throws OpenSSL's error otherwise. Returns the options to install.
 */
export function checkedTlsOptions(material: TlsMaterial, profile: TlsProfile): SecureContextOptions {
  const options = tlsOptions(material, profile);
  createSecureContext(options);
  return options;
}
