// The native PulseAudio client (src/core/volume/pulse/) against a real
// PulseAudio (null sink), checked with pactl; the same suite runs against
// pipewire-pulse in pulse-native-pipewire.test.js. The CLI runs with no
// pactl on its PATH, so every passing call proves the native client did the
// work. And cookie authentication: allowed with the server's cookie, denied
// with a wrong one or none.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startPulse } from './helpers/pulse.js';
import { nativeSuite, noToolsPath } from './helpers/pulse-suite.js';
import { cliEnv, runCli } from './helpers/cli.js';
import { PulseMixer } from '../dist/core/volume/pulse/mixer.js';

nativeSuite(t, 'PulseAudio', (t) => startPulse(t));

t.test('cookie authentication (PulseAudio as another user, no anonymous access)', async (t) => {
  const pa = await startPulse(t, { cookieAuth: true });
  const wrong = join(pa.dir, 'wrong-cookie');
  const wrongBytes = randomBytes(256);
  writeFileSync(wrong, wrongBytes, { mode: 0o600 });
  const base = { XDG_RUNTIME_DIR: pa.runtime, PATH: noToolsPath(t), MPD_PORT: '1' };

  const good = cliEnv(t, { ...base, PULSE_COOKIE: pa.cookieFile }).env;
  let r = await runCli(['config', 'set', 'volume.backend', 'pulse'], { env: good });
  pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '33%');
  r = await runCli(['volume', '--json'], { env: good });
  t.equal(r.code, 0, r.stderr);
  t.equal(JSON.parse(r.stdout).level, 33, 'allowed: the server\'s cookie (PULSE_COOKIE) admits us');

  for (const [what, extra] of [['a wrong cookie', { PULSE_COOKIE: wrong }], ['no cookie (zeros)', {}]]) {
    const { env, configDir } = cliEnv(t, { ...base, ...extra });
    writeFileSync(join(configDir, 'config.json'), '{"volume":{"backend":"pulse"}}\n', { mode: 0o600 });
    r = await runCli(['volume', '--json'], { env });
    t.equal(r.code, 3, `denied: ${what} is exit 3`);
    t.match(r.stderr, /refused the authentication cookie \(access denied\)/, 'with a clear error');
    t.notOk(r.stderr.includes(wrongBytes.toString('hex').slice(0, 16)) || r.stderr.includes(wrongBytes.toString('base64').slice(0, 16)), 'never the cookie');
    r = await runCli(['volume', '50'], { env });
    t.equal(r.code, 3, `denied: ${what} changes nothing`);
  }
  t.equal(pa.pactl('get-sink-volume', '@DEFAULT_SINK@').match(/(\d+)%/)[1], '33', 'the volume is as it was');
  const mixer = new PulseMixer({ env: { ...pa.env, PULSE_COOKIE: wrong }, timeoutMs: 3000 });
  await t.rejects(mixer.get(), { code: 'volume.pulse_access_denied' }, 'the mixer refuses too (no pactl fallback: pactl would be refused alike)');
});
