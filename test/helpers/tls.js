// TLS test tools: an EC P-256 certificate made with openssl, a handshake
// probe (which protocol and suite a server accepts), and the real
// testssl.sh with a checker for its JSON findings.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { sh, tempDir } from './proc.js';

/**
 * A self-signed EC P-256 certificate for 127.0.0.1 (openssl), valid for
 * `days` (a year by default: a certificate that expires within 60 days is a
 * finding of its own for testssl.sh). Returns {dir, cert, key, certPem}.
 */
export function ecCertificate(t, { days = 365, cn = '127.0.0.1', dir = tempDir(t, 'mg-tls-ec-') } = {}) {
  const cert = join(dir, `${cn}-${days}-cert.pem`);
  const key = join(dir, `${cn}-${days}-key.pem`);
  sh('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', String(days), '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1']);
  return { dir, cert, key, certPem: readFileSync(cert, 'utf8') };
}

/**
 * One TLS handshake with 127.0.0.1:`port`, the client limited to
 * `minVersion`..`maxVersion` and `ciphers` (OpenSSL names; the client's
 * security level is lowered to 0 so it can offer what it is told to).
 * Resolves {ok: true, protocol, cipher, fingerprint256} or {ok: false, error}.
 */
export function tlsProbe(port, { minVersion = 'TLSv1.2', maxVersion = 'TLSv1.3', ciphers, ciphersuites } = {}) {
  return new Promise((resolve) => {
    const s = connect({
      host: '127.0.0.1', port, rejectUnauthorized: false, minVersion, maxVersion,
      ciphers: `${ciphers ?? 'DEFAULT'}:@SECLEVEL=0`,
      ...(ciphersuites ? { ciphersuites } : {}),
    });
    const timer = setTimeout(() => { s.destroy(); resolve({ ok: false, error: 'timeout' }); }, 10000);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      const r = { ok: true, protocol: s.getProtocol(), cipher: s.getCipher().name, fingerprint256: s.getPeerCertificate().fingerprint256 };
      s.end();
      resolve(r);
    });
    s.once('error', (e) => { clearTimeout(timer); resolve({ ok: false, error: e.code ?? e.message }); });
  });
}

/** Fingerprint (SHA-256, as node prints it) of a PEM certificate file's first certificate. */
export function fingerprintOf(certFile) {
  return sh('openssl', ['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256']).toString().trim().split('=')[1];
}

/**
 * Findings that are about the test certificate itself, not about the
 * server's TLS: a self-signed certificate made by the harness a second ago
 * has no chain to a trusted CA, no revocation information (no CA to revoke
 * it), and 127.0.0.1 has no DNS name, so no CAA record. testssl.sh reports
 * each; they would appear for any server given this certificate, and say
 * nothing about what mediagate offers. Exactly these ids are excluded, and
 * only at the severity given here or lower. Nothing else is.
 */
export const TESTSSL_EXCLUDED = Object.freeze({
  cert_chain_of_trust: { max: 'CRITICAL', why: 'self-signed test certificate: no chain to a trusted CA' },
  cert_revocation: { max: 'HIGH', why: 'the test certificate names no CRL or OCSP URI (there is no CA to revoke it)' },
  DNS_CAArecord: { max: 'LOW', why: '127.0.0.1 has no DNS name, so no CAA record can name the test certificate\'s issuer' },
});

/** testssl.sh's own environment notes, not findings about the server. */
const SCANNER_NOTES = new Set(['engine_problem', 'scanTime', 'scanProblem']);

const RANK = { OK: 0, INFO: 0, DEBUG: 0, LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 };

/**
 * The findings a clean server must not have: rated LOW or worse, or WARN
 * (testssl.sh could not complete a check: a pass would then prove nothing),
 * minus TESTSSL_EXCLUDED at or below their severity, and `alsoExpected`
 * ({id: {finding: RegExp, why}}) for what a run has by design.
 */
export function badFindings(findings, { alsoExpected = {} } = {}) {
  return findings.filter((f) => {
    // A run's own expected finding (e.g. modern: TLS 1.2 not offered), matched by id and exact text.
    if (alsoExpected[f.id] && alsoExpected[f.id].finding.test(f.finding)) return false;
    if (SCANNER_NOTES.has(f.id)) return false;
    if (f.severity === 'WARN') return true;
    const rank = RANK[f.severity];
    if (rank === undefined) return true; // a rating we do not know: look at it
    if (rank < RANK.LOW) return false;
    const ex = TESTSSL_EXCLUDED[f.id];
    return !(ex && rank <= RANK[ex.max]);
  });
}

/**
 * Run testssl.sh with `args` against 127.0.0.1:`port`; its flat JSON goes
 * to a file in a temp dir. Resolves {findings, ms, code, stdout}.
 */
export function runTestssl(t, port, args, { timeoutMs = 15 * 60 * 1000 } = {}) {
  const dir = tempDir(t, 'mg-testssl-');
  const json = join(dir, 'findings.json');
  const argv = ['--quiet', '--warnings', 'off', '--color', '0', '--connect-timeout', '10', '--openssl-timeout', '10',
    '--jsonfile', json, ...args, `127.0.0.1:${port}`];
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    execFile('testssl', argv, { cwd: dir, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, TERM: 'dumb' } }, (err, stdout) => {
      const ms = Date.now() - t0;
      let findings;
      try {
        findings = JSON.parse(readFileSync(json, 'utf8'));
      } catch (e) {
        reject(new Error(`testssl.sh wrote no readable JSON (${err?.message ?? e.message}):\n${stdout}`));
        return;
      }
      resolve({ findings, ms, code: err ? err.code : 0, stdout });
    });
  });
}
