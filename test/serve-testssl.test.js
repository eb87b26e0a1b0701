// The real testssl.sh against a real `mediagate serve --tls-cert … --tls-key …`
// on 127.0.0.1 (EC P-256 certificate made here with openssl), for both
// profiles: any finding rated LOW or worse (or a check testssl.sh could not
// finish, WARN) fails, except the test certificate's own chain of trust,
// revocation info and CAA record (TESTSSL_EXCLUDED in helpers/tls.js, with
// the reasons). A twin run against a deliberately weak node https server
// (CBC suites, TLS 1.0) shows the checker does fail.
//
// Checks run: protocols (-p), cipher categories (-s), forward secrecy (-f),
// server preferences (-P), server defaults/certificate (-S), HTTP headers
// (-h) and every vulnerability check (-U: Heartbleed, CCS, ticketbleed,
// ROBOT, renegotiation, CRIME, BREACH, POODLE, SWEET32, FREAK, DROWN,
// LOGJAM, BEAST, LUCKY13, RC4, …). Left out: per-cipher listing (-E) and
// client simulation (-c), which add minutes and no rating beyond -s/-f/-P.
import t from 'tap';
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { serveEnv, startServe } from './helpers/serve.js';
import { badFindings, ecCertificate, runTestssl, TESTSSL_EXCLUDED } from './helpers/tls.js';

// Three scans of 1–3 minutes each (about 6½ minutes in all at load 15 on 2 cores).
t.setTimeout(25 * 60_000);

const CHECKS = ['-p', '-s', '-f', '-P', '-S', '-h', '-U'];

/**
 * What a profile has by design: modern is TLS 1.3 only, and testssl.sh 3.0
 * rates "TLS 1.2 not offered" MEDIUM when TLS 1.3 is (a penalty for clients
 * without 1.3, which is that profile's stated trade-off). Nothing else.
 */
const BY_DESIGN = {
  intermediate: {},
  modern: { TLS1_2: { finding: /^not offered$/, why: 'the modern profile is TLS 1.3 only' } },
};

function show(findings) {
  return findings.map((f) => `${f.severity} ${f.id}: ${f.finding}`).join('\n');
}

for (const profile of ['intermediate', 'modern']) {
  t.test(`testssl.sh: serve with the ${profile} profile has no finding rated LOW or worse`, async (t) => {
    const cert = ecCertificate(t);
    const { env } = await serveEnv(t, {}, { 'server.tlsProfile': profile });
    const srv = await startServe(t, env, { args: ['--tls-cert', cert.cert, '--tls-key', cert.key] });
    let r = await runTestssl(t, srv.port, CHECKS);
    t.comment(`testssl.sh (${profile}): ${(r.ms / 1000).toFixed(0)} s, ${r.findings.length} findings`);
    // A WARN is a check testssl.sh could not finish (seen under load: "check failed because of
    // connect problem"). Only then, scan once more; a WARN that stays, or any rating, fails below.
    const first = badFindings(r.findings, { alsoExpected: BY_DESIGN[profile] });
    if (first.length > 0 && first.every((f) => f.severity === 'WARN')) {
      t.comment(`scanning again after: ${show(first)}`);
      r = await runTestssl(t, srv.port, CHECKS);
    }
    const ids = new Set(r.findings.map((f) => f.id));
    // The scan covered what matters (a run that tested nothing would pass too).
    for (const id of ['SSLv3', 'TLS1', 'TLS1_1', 'TLS1_2', 'TLS1_3', 'cipherlist_AVERAGE', 'LUCKY13', 'BREACH', 'ROBOT', 'cert_keySize', 'HSTS_time']) {
      t.ok(ids.has(id), `testssl.sh checked ${id}`);
    }
    const bad = badFindings(r.findings, { alsoExpected: BY_DESIGN[profile] });
    t.same(bad, [], `no finding LOW or worse beyond the excluded ${[...Object.keys(TESTSSL_EXCLUDED), ...Object.keys(BY_DESIGN[profile])].join(', ')}:\n${show(bad)}`);
    t.comment(`excluded here: ${show(r.findings.filter((f) => !bad.includes(f) && (TESTSSL_EXCLUDED[f.id] || BY_DESIGN[profile][f.id]) && !['OK', 'INFO'].includes(f.severity)))}`);
    const byId = Object.fromEntries(r.findings.map((f) => [f.id, f]));
    t.match(byId.TLS1_1.finding, /not offered/, 'TLS 1.1 not offered');
    t.match(byId.TLS1_3.finding, /offered/, 'TLS 1.3 offered');
    t.match(byId.TLS1_2.finding, profile === 'modern' ? /not offered/ : /^offered/, `TLS 1.2 ${profile === 'modern' ? 'not ' : ''}offered`);
    t.match(byId.LUCKY13.finding, /not vulnerable/);
    t.match(byId.BREACH.finding, /no HTTP compression/);
  });
}

t.test('testssl.sh twin: a weak server (CBC suites, TLS 1.0) fails the same checker', async (t) => {
  const cert = ecCertificate(t);
  const weak = createServer({ cert: cert.certPem, key: readFileSync(cert.key), minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }, (_q, res) => res.end('weak'));
  await new Promise((r) => weak.listen(0, '127.0.0.1', r));
  t.teardown(() => weak.close());
  const r = await runTestssl(t, weak.address().port, ['-p', '-s', '--lucky13']);
  t.comment(`testssl.sh (weak twin): ${(r.ms / 1000).toFixed(0)} s`);
  const bad = badFindings(r.findings);
  const ids = bad.map((f) => f.id);
  t.ok(bad.length > 0, `the checker fails it:\n${show(bad)}`);
  t.ok(ids.includes('LUCKY13'), 'LUCKY13 (CBC) caught');
  t.ok(ids.includes('cipherlist_AVERAGE'), 'the obsolete CBC suites caught');
  t.ok(ids.some((id) => /^TLS1(_1)?$/.test(id)), 'TLS 1.0/1.1 offered caught');
});
