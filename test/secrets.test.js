import t from 'tap';
import { chmodSync, readFileSync, writeFileSync, statSync, unlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  seal, open, mask, generateKey, decodeKey, setSecret, readSecret, rotateKey, displayValue,
  revealSecret, loadKeyring, keyringFor, keyFilePath, isSealed,
} from '../dist/core/secrets.js';
import { Config } from '../dist/core/config/store.js';
import { securityEnv, recordingAudit, runChild } from './helpers/security.js';

const PW = 'correct horse battery staple 1234';

t.test('seal/open: allowed — round trip, fresh nonce, format', async (t) => {
  const key = generateKey();
  const a = seal(PW, key);
  const b = seal(PW, key);
  t.match(a, /^nacl:v1:[A-Za-z0-9+/]+=*$/);
  t.not(a, b, 'a fresh nonce each time');
  const raw = Buffer.from(a.slice('nacl:v1:'.length), 'base64');
  t.equal(raw.length, 24 + 16 + Buffer.byteLength(PW), 'nonce ‖ box');
  t.not(raw.subarray(0, 24).toString('hex'), Buffer.from(b.slice(8), 'base64').subarray(0, 24).toString('hex'));
  t.equal(open(a, key), PW);
  t.equal(open(seal('ünïcødé ✓', key), key), 'ünïcødé ✓');
  t.equal(open(a, [generateKey(), key]), PW, 'any key of a keyring opens');
  t.notOk(a.includes(PW));
});

t.test('seal/open: denied — wrong key, tampered box, damaged value', async (t) => {
  const key = generateKey();
  const sealed = seal(PW, key);
  t.throws(() => open(sealed, generateKey()), { code: 'secret.open_failed', exitCode: 5, message: /changed after sealing or sealed under a different key/ }, 'wrong key');
  const raw = Buffer.from(sealed.slice(8), 'base64');
  for (const at of [0, 23, 24, 30, raw.length - 1]) {
    const bad = Buffer.from(raw);
    bad[at] ^= 0x01;
    t.throws(() => open(`nacl:v1:${bad.toString('base64')}`, key), { code: 'secret.open_failed', exitCode: 5 }, `flipped byte ${at}`);
  }
  t.throws(() => open(`nacl:v1:${raw.subarray(0, 30).toString('base64')}`, key), { code: 'secret.malformed', exitCode: 5 }, 'truncated');
  t.throws(() => open('nacl:v1:!!!', key), { code: 'secret.malformed' }, 'not base64');
  t.throws(() => open('hunter2', key), { code: 'secret.malformed' }, 'plain text');
  t.throws(() => open(sealed, []), { code: 'secret.open_failed' }, 'no key');
});

t.test('mask', async (t) => {
  t.equal(mask('abcdefgh1234'), '••••1234');
  t.equal(mask(PW), '••••1234');
  t.equal(mask('short'), '••••', 'short values are all bullets');
  t.equal(mask(''), '••••');
});

t.test('decodeKey / MEDIAGATE_SECRET_KEY', async (t) => {
  const good = Buffer.alloc(32, 7).toString('base64');
  t.equal(decodeKey(good, 'MEDIAGATE_SECRET_KEY').length, 32);
  t.throws(() => decodeKey(Buffer.alloc(16).toString('base64'), 'MEDIAGATE_SECRET_KEY'), { exitCode: 5, code: 'secret.bad_key', message: /MEDIAGATE_SECRET_KEY.*32 bytes/ });
  t.throws(() => decodeKey('not base64 !!', 'MEDIAGATE_SECRET_KEY'), { exitCode: 5 });
  const { env } = securityEnv(t);
  t.throws(() => loadKeyring({ ...env, MEDIAGATE_SECRET_KEY: 'c2hvcnQ=' }), { exitCode: 5, code: 'secret.bad_key' }, 'wrong length is a ConfigError');
  const ring = loadKeyring({ ...env, MEDIAGATE_SECRET_KEY: good });
  t.equal(ring.source, 'env');
  t.notOk(existsSync(keyFilePath(env)), 'no key file made when the key comes from the environment');
});

t.test('setSecret/readSecret: key created on first need, 0600, value sealed', async (t) => {
  const { env, configDir } = securityEnv(t);
  const audit = recordingAudit();
  t.notOk(existsSync(join(configDir, 'secret.key')));
  await setSecret('mpd.password', PW, { env, audit });
  const keyPath = join(configDir, 'secret.key');
  t.equal(statSync(keyPath).mode & 0o777, 0o600, 'key file 0600');
  t.equal(statSync(join(configDir, 'config.json')).mode & 0o777, 0o600, 'config 0600');
  const text = readFileSync(join(configDir, 'config.json'), 'utf8');
  t.notOk(text.includes(PW), 'no plaintext in config');
  const cfg = Config.load(env);
  t.ok(isSealed(cfg.get('mpd.password')));
  t.equal(readSecret(cfg, 'mpd.password', env), PW);
  t.equal(readSecret(cfg, 'mpd.host', env), undefined, 'unset → undefined');
  t.equal(displayValue('mpd.password', cfg.get('mpd.password'), env), '••••1234');
  t.equal(displayValue('mpd.port', 6600, env), '6600');
  t.equal(revealSecret(cfg, 'mpd.password', env, { audit }), PW);
  t.same(audit.events.map((e) => [e.action, e.target, e.outcome]), [['secret.set', 'mpd.password', 'ok'], ['secret.reveal', 'mpd.password', 'ok']]);
  t.notOk(JSON.stringify(audit.events).includes(PW), 'audit holds no secret');
  // Setting again re-seals under the same key.
  const before = readFileSync(keyPath, 'utf8');
  await setSecret('mpd.password', 'another-password-5678', { env });
  t.equal(readFileSync(keyPath, 'utf8'), before, 'same key');
  t.equal(readSecret(Config.load(env), 'mpd.password', env), 'another-password-5678');
});

t.test('setSecret: denied — not a secret key, unknown key, empty value', async (t) => {
  const { env } = securityEnv(t);
  await t.rejects(setSecret('mpd.host', 'x', { env }), { exitCode: 2, code: 'config.not_secret' });
  await t.rejects(setSecret('nope.key', 'x', { env }), { exitCode: 5, code: 'config.unknown_key' });
  await t.rejects(setSecret('mpd.password', '', { env }), { exitCode: 2, code: 'usage.empty_secret' });
});

t.test('missing key file while sealed secrets exist → exit 5, no new key', async (t) => {
  const { env, configDir } = securityEnv(t);
  await setSecret('mpd.password', PW, { env });
  unlinkSync(join(configDir, 'secret.key'));
  const cfg = Config.load(env);
  t.throws(() => readSecret(cfg, 'mpd.password', env), { exitCode: 5, code: 'secret.key_missing', message: /mpd\.password/ });
  t.throws(() => keyringFor(cfg, env, { create: true }), { exitCode: 5, code: 'secret.key_missing' });
  await t.rejects(setSecret('mpd.password', 'new', { env }), { exitCode: 5, code: 'secret.key_missing' });
  await t.rejects(rotateKey({ env }), { exitCode: 5, code: 'secret.key_missing' });
  t.notOk(existsSync(join(configDir, 'secret.key')), 'never silently made a new key');
  t.equal(displayValue('mpd.password', cfg.get('mpd.password'), env, { onError: 'mark' }), '•••• (cannot open: secret.key_missing)');
});

t.test('wrong key (other key file or env) → exit 5 naming the key', async (t) => {
  const { env, configDir } = securityEnv(t);
  await setSecret('mpd.password', PW, { env });
  const other = Buffer.from(generateKey()).toString('base64');
  const cfg = Config.load(env);
  t.throws(() => readSecret(cfg, 'mpd.password', { ...env, MEDIAGATE_SECRET_KEY: other }), { exitCode: 5, code: 'secret.open_failed', message: /secret 'mpd\.password'/ });
  // A key file holding another key: same clear error.
  writeFileSync(join(configDir, 'secret.key'), `${other}\n`, { mode: 0o600 });
  t.throws(() => readSecret(Config.load(env), 'mpd.password', env), { exitCode: 5, code: 'secret.open_failed' });
});

t.test('tampered sealed value in config → exit 5', async (t) => {
  const { env, configDir } = securityEnv(t);
  await setSecret('mpd.password', PW, { env });
  const p = join(configDir, 'config.json');
  const conf = JSON.parse(readFileSync(p, 'utf8'));
  const raw = Buffer.from(conf.mpd.password.slice(8), 'base64');
  raw[raw.length - 2] ^= 0x40;
  conf.mpd.password = `nacl:v1:${raw.toString('base64')}`;
  writeFileSync(p, JSON.stringify(conf), { mode: 0o600 });
  t.throws(() => readSecret(Config.load(env), 'mpd.password', env), { exitCode: 5, code: 'secret.open_failed' });
});

t.test('unsafe permissions on key file / config dir → refused with fix hint', async (t) => {
  const { env, configDir } = securityEnv(t);
  await setSecret('mpd.password', PW, { env });
  const keyPath = join(configDir, 'secret.key');
  chmodSync(keyPath, 0o644);
  t.throws(() => loadKeyring(env), { exitCode: 5, code: 'config.unsafe_permissions', hint: /chmod 600/ }, 'world-readable key file');
  chmodSync(keyPath, 0o600);
  t.ok(loadKeyring(env), 'allowed again once fixed');
  chmodSync(configDir, 0o777);
  t.teardown(() => chmodSync(configDir, 0o700));
  t.throws(() => loadKeyring(env), { exitCode: 5, code: 'config.unsafe_permissions', hint: /chmod 700/ }, 'world-writable config dir');
});

t.test('two processes creating the key at once end up with one key', async (t) => {
  const { env } = securityEnv(t);
  const at = String(Date.now() + 700);
  const runs = await Promise.all(Array.from({ length: 6 }, () => runChild(['create-key', at], env)));
  for (const r of runs) t.equal(r.code, 0, r.stderr);
  const keys = new Set(runs.map((r) => r.json.key));
  t.equal(keys.size, 1, 'every process got the same key');
  t.equal(Buffer.from(loadKeyring(env).current).toString('base64'), [...keys][0]);
});

t.test('rotateKey: allowed — re-seals under a new key, old key gone', async (t) => {
  const { env, configDir } = securityEnv(t);
  const audit = recordingAudit();
  await setSecret('mpd.password', PW, { env });
  const oldKey = readFileSync(join(configDir, 'secret.key'), 'utf8');
  const oldSealed = Config.load(env).get('mpd.password');
  const r = await rotateKey({ env, audit });
  t.same(r, { resealed: 1 });
  const newKey = readFileSync(join(configDir, 'secret.key'), 'utf8');
  t.not(newKey, oldKey);
  t.equal(newKey.trim().split('\n').length, 1, 'one key left');
  t.equal(statSync(join(configDir, 'secret.key')).mode & 0o777, 0o600);
  const cfg = Config.load(env);
  t.not(cfg.get('mpd.password'), oldSealed);
  t.equal(readSecret(cfg, 'mpd.password', env), PW);
  t.throws(() => open(cfg.get('mpd.password'), decodeKey(oldKey.trim(), 'old')), { code: 'secret.open_failed' }, 'old key no longer opens it');
  t.same(audit.events.map((e) => [e.action, e.outcome]), [['config.rotate_key', 'ok']]);
  await t.rejects(rotateKey({ env: { ...env, MEDIAGATE_SECRET_KEY: Buffer.alloc(32).toString('base64') } }), { exitCode: 5, code: 'secret.key_from_env' });
  // No secrets and no key yet: rotate just makes a key.
  const fresh = securityEnv(t);
  t.same(await rotateKey({ env: fresh.env }), { resealed: 0 });
  t.ok(loadKeyring(fresh.env));
});

// Which line of the key file opens each secret: all the same line means config
// is wholly in the old or wholly in the new state, never a mix.
function sealedUnder(env, configDir, keys) {
  const lines = readFileSync(join(configDir, 'secret.key'), 'utf8').trim().split('\n');
  const cfg = Config.load(env);
  return keys.map((k) => lines.findIndex((l) => { try { open(cfg.get(k), decodeKey(l, 'line')); return true; } catch { return false; } }));
}

const SECRETS = { 'mpd.password': PW, 'server.tlsKeyPassphrase': 'tls pass phrase 5678', 'remotes.home.token': 'mg_remote-token-value-abcdefghijkl' };

t.test('rotateKey: crash (SIGKILL) after each step leaves the whole old or the whole new state, and a rerun finishes', async (t) => {
  for (const [step, lines, under] of [['keyring-written', 2, 1], ['secrets-resealed', 2, 0], ['keyfile-final', 1, 0]]) {
    await t.test(step, async (t) => {
      const { env, configDir } = securityEnv(t);
      for (const [k, v] of Object.entries(SECRETS)) await setSecret(k, v, { env });
      const keys = Object.keys(SECRETS);
      const before = sealedUnder(env, configDir, keys);
      t.same(before, [0, 0, 0]);
      const r = await runChild(['rotate-crash', step], env);
      t.equal(r.signal, 'SIGKILL', 'the child died mid-rotation');
      const keyLines = readFileSync(join(configDir, 'secret.key'), 'utf8').trim().split('\n');
      t.equal(keyLines.length, lines, 'key file as expected at this point');
      t.same(sealedUnder(env, configDir, keys), keys.map(() => under), `every secret sealed under the ${under === 0 ? 'new' : 'old'} key: no mix`);
      for (const [k, v] of Object.entries(SECRETS)) t.equal(readSecret(Config.load(env), k, env), v, `${k} readable after the crash`);
      // A rerun (after the dead process's lock is broken) completes the rotation.
      const r2 = await rotateKey({ env });
      t.equal(r2.resealed, 3);
      const after = readFileSync(join(configDir, 'secret.key'), 'utf8').trim().split('\n');
      t.equal(after.length, 1, 'one key after the rerun');
      if (step !== 'keyfile-final') t.equal(after[0], keyLines[0], 'the rerun finished with the interrupted rotation\'s new key');
      t.same(sealedUnder(env, configDir, keys), [0, 0, 0]);
      for (const [k, v] of Object.entries(SECRETS)) t.equal(readSecret(Config.load(env), k, env), v, `${k} readable after the rerun`);
    });
  }
});

t.test('rotate-key, config set and set-secret racing in three processes: every secret opens, no update lost', async (t) => {
  for (let round = 0; round < 3; round++) {
    await t.test(`round ${round}`, async (t) => {
      const { env, configDir } = securityEnv(t);
      for (const [k, v] of Object.entries(SECRETS)) await setSecret(k, v, { env });
      const at = String(Date.now() + 400);
      const [rot, set, sec] = await Promise.all([
        runChild(['rotate-loop', at, '15'], env),
        runChild(['config-set-loop', at, '30'], env),
        runChild(['set-secret-loop', at, '8', `value-${round}`], env),
      ]);
      t.same([rot.code, set.code, sec.code], [0, 0, 0], `all three finished: ${rot.stderr}${set.stderr}${sec.stderr}`);
      const cfg = Config.load(env);
      t.equal(cfg.get('mpd.port'), 1030, 'the last config set is there');
      const folders = cfg.childrenOf('media.folders').map(([k]) => k);
      t.equal(folders.length, 30, 'no config set was undone by a concurrent write');
      const expected = { ...SECRETS };
      for (let i = 1; i <= 8; i++) expected[`remotes.r${i}.token`] = `value-${round}-${i}`;
      t.equal(readFileSync(join(configDir, 'secret.key'), 'utf8').trim().split('\n').length, 1, 'one key');
      const bad = [];
      for (const [k, v] of Object.entries(expected)) {
        let got;
        try { got = readSecret(cfg, k, env); } catch (e) { got = `error ${e.code}`; }
        if (got !== v) bad.push(`${k}: ${got === undefined ? 'missing' : got.startsWith('error') ? got : 'wrong value'}`);
      }
      t.same(bad, [], 'every secret present and opens with the key file to its value');
    });
  }
});
