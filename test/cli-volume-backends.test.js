// The PipeWire (wpctl) and ALSA (amixer) mixers against real sound servers:
// PipeWire + WirePlumber with a null sink, and ALSA's pulse plugin device in
// front of a real PulseAudio (these machines have no sound card).
import t from 'tap';
import { startPipewire, pipewireVolume } from './helpers/pipewire.js';
import { startPulse, pulseVolume } from './helpers/pulse.js';
import { cliEnv, runCli } from './helpers/cli.js';

t.test('PipeWire through wpctl', async (t) => {
  const pw = await startPipewire(t);
  const { env } = cliEnv(t, { XDG_RUNTIME_DIR: pw.runtime, DBUS_SESSION_BUS_ADDRESS: pw.bus.address, MPD_PORT: '1' });
  let r = await runCli(['config', 'set', 'volume.backend', 'pipewire'], { env });
  t.equal(r.code, 0, r.stderr);
  pw.wpctl('set-volume', '@DEFAULT_AUDIO_SINK@', '0.40');
  r = await runCli(['volume', '--json'], { env });
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout), { level: 40, muted: false, target: 'system', backend: 'pipewire' });
  r = await runCli(['volume', '65'], { env });
  t.equal(r.code, 0, r.stderr);
  t.equal(pipewireVolume(pw).level, 65, 'volume 65 → wpctl 0.65');
  r = await runCli(['volume', '-15'], { env });
  t.equal(pipewireVolume(pw).level, 50, '-15 → 0.50');
  r = await runCli(['volume', 'mute'], { env });
  t.equal(pipewireVolume(pw).muted, true, 'mute → [MUTED]');
  r = await runCli(['volume', 'toggle-mute', '--json'], { env });
  t.equal(JSON.parse(r.stdout).muted, false, 'toggle-mute → unmuted');
  t.equal(pipewireVolume(pw).muted, false);
});

t.test('ALSA through amixer (pulse plugin device)', async (t) => {
  const pa = await startPulse(t);
  const { env } = cliEnv(t, { XDG_RUNTIME_DIR: pa.runtime, MPD_PORT: '1' });
  for (const [k, v] of [['volume.backend', 'alsa'], ['volume.alsaDevice', 'pulse']]) {
    const r = await runCli(['config', 'set', k, v], { env });
    t.equal(r.code, 0, r.stderr);
  }
  pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '40%');
  let r = await runCli(['volume', '--json'], { env });
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout), { level: 40, muted: false, target: 'system', backend: 'alsa' });
  r = await runCli(['volume', '+10'], { env });
  t.equal(r.code, 0, r.stderr);
  t.equal(pulseVolume(pa).level, 50, '+10 through ALSA → pactl 50%');
  r = await runCli(['volume', 'mute'], { env });
  t.equal(pulseVolume(pa).muted, true, 'mute through ALSA');
  r = await runCli(['volume', 'unmute'], { env });
  t.equal(pulseVolume(pa).muted, false, 'unmute through ALSA');

  r = await runCli(['config', 'set', 'volume.alsaControl', 'NoSuchControl'], { env });
  r = await runCli(['volume'], { env });
  t.equal(r.code, 3, 'a missing ALSA control is exit 3');
  t.match(r.stderr, /amixer/);
});
