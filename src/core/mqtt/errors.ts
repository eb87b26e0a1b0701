/**
 * What went wrong talking to the broker, as the MediagateError a command
 * reports (and `serve` logs): the broker refused us (exit 4), or cannot be
 * reached, or its TLS certificate is not accepted (exit 6) — each naming the
 * fix. Never the password: messages are built from codes, not from what the
 * library or the broker wrote.
 */
import { AuthError, type MediagateError, UnreachableError } from '../errors.js';

/** CONNACK codes (MQTT 3.1.1 return codes 1–5, MQTT 5 reason codes ≥ 0x80) that mean "not you". */
const REFUSED: Record<number, string> = {
  4: 'bad user name or password',
  5: 'not authorised',
  0x86: 'bad user name or password',
  0x87: 'not authorised',
  0x8a: 'banned',
  0x8c: 'bad authentication method',
};

const TLS_FIX: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the broker presents a self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'the broker\'s certificate chains to a CA that is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the broker\'s certificate is not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the broker\'s certificate is not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT: 'the broker\'s certificate is not signed by a trusted CA',
  CERT_HAS_EXPIRED: 'the broker\'s certificate has expired',
  CERT_NOT_YET_VALID: 'the broker\'s certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the broker\'s certificate does not name this host',
  CERT_SIGNATURE_FAILURE: 'the broker\'s certificate signature is invalid',
};

const NET: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the broker running, on this port?)',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ETIMEDOUT: 'the connection timed out',
  EPIPE: 'the connection was closed',
  EPROTO: 'the TLS handshake failed (does the broker speak TLS on this port?)',
  ERR_SSL_WRONG_VERSION_NUMBER: 'the TLS handshake failed (does the broker speak TLS on this port? use mqtt:// for a plain one)',
};

/** The failure of connecting to `url` (or of the connection later) as a MediagateError. */
export function brokerError(e: unknown, url: string): MediagateError {
  const err = e as { code?: unknown; message?: unknown } | undefined;
  const code = err?.code;
  if (typeof code === 'number' && REFUSED[code]) {
    return new AuthError(`the MQTT broker ${url} refused the connection: ${REFUSED[code]}`,
      'check mqtt.username and the password (set it with: mediagate config set-secret mqtt.password), and the broker\'s password file', 'mqtt.refused');
  }
  if (typeof code === 'string' && TLS_FIX[code]) {
    return new UnreachableError(`cannot connect to the MQTT broker ${url}: ${TLS_FIX[code]} (${code}); the connection was refused, not retried without verification`,
      code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? 'connect to the name or address the certificate was made for (mqtt.url), or give the broker a certificate for this one'
        : 'give the CA certificate that signed the broker\'s certificate: mediagate config set mqtt.ca /path/to/ca.pem', 'mqtt.tls');
  }
  if (typeof code === 'string' && NET[code]) {
    return new UnreachableError(`cannot reach the MQTT broker ${url}: ${NET[code]}`, 'check mqtt.url and that the broker runs and is reachable from this machine', 'mqtt.unreachable');
  }
  const message = typeof err?.message === 'string' ? err.message : '';
  if (/connack timeout|timed? ?out/i.test(message)) {
    return new UnreachableError(`cannot reach the MQTT broker ${url}: no answer in time`, 'check mqtt.url and that the broker runs and is reachable from this machine', 'mqtt.timeout');
  }
  return new UnreachableError(`cannot reach the MQTT broker ${url}: ${typeof code === 'string' ? code : 'connection failed'}`, 'check mqtt.url and that the broker runs and is reachable from this machine', 'mqtt.unreachable');
}

/** A publish or subscribe the broker refused (MQTT 5 reason code ≥ 0x80; 3.1.1 SUBACK 0x80). */
export function brokerDenied(what: string, url: string): MediagateError {
  return new AuthError(`the MQTT broker ${url} does not allow this user to ${what}`,
    'the broker\'s ACL decides what each user may read and write; see "MQTT and Home Assistant" in the README', 'mqtt.denied');
}
