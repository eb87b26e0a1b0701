// PipeWire + WirePlumber with a null sink on a private session bus, as in
// shared/reference/media-stacks.sh. WirePlumber needs the session bus.
import { mkdirSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, startDaemon, waitFor, sh } from './proc.js';
import { startSessionBus } from './dbus.js';

/**
 * PipeWire + WirePlumber with a two-channel null sink `test_sink`; with
 * `pulse: true` also pipewire-pulse, PipeWire's PulseAudio server, on
 * $XDG_RUNTIME_DIR/pulse/native (then `pactl(...args)` is returned too).
 */
export async function startPipewire(t, { pulse = false } = {}) {
  const dir = tempDir(t, 'mg-pw-');
  const home = join(dir, 'home');
  const runtime = join(dir, 'xdg');
  const confDir = join(home, '.config', 'pipewire', 'pipewire.conf.d');
  mkdirSync(confDir, { recursive: true });
  mkdirSync(runtime, { mode: 0o700 });
  writeFileSync(join(confDir, '10-null-sink.conf'), [
    'context.objects = [',
    '  { factory = adapter',
    '    args = { factory.name = support.null-audio-sink  node.name = "test_sink"  media.class = "Audio/Sink"',
    '             object.linger = true  audio.position = [ FL FR ]  monitor.channel-volumes = true } } ]',
    '',
  ].join('\n'));
  const bus = await startSessionBus(t);
  const env = {
    PATH: process.env.PATH, HOME: home, XDG_RUNTIME_DIR: runtime, XDG_CONFIG_HOME: join(home, '.config'),
    XDG_STATE_HOME: join(home, '.local', 'state'), DBUS_SESSION_BUS_ADDRESS: bus.address, LANG: 'C',
  };
  const pw = startDaemon('pipewire', [], { env, logFile: join(dir, 'pw.log') });
  t.teardown(() => pw.stop());
  await waitFor(() => statSync(join(runtime, 'pipewire-0')).isSocket(), { what: 'pipewire socket' });
  const wp = startDaemon('wireplumber', [], { env, logFile: join(dir, 'wp.log') });
  t.teardown(() => wp.stop());
  const wpctl = (...args) => sh('wpctl', args, { env });
  await waitFor(() => wpctl('inspect', '@DEFAULT_AUDIO_SINK@'), { what: 'wireplumber default sink', timeoutMs: 15000 });
  let pactl;
  if (pulse) {
    const pp = startDaemon('pipewire-pulse', [], { env, logFile: join(dir, 'pp.log') });
    t.teardown(() => pp.stop());
    pactl = (...args) => sh('pactl', args, { env });
    // ready when the pulse server answers and has the default sink
    await waitFor(() => /test_sink/.test(pactl('get-default-sink')), { what: 'pipewire-pulse default sink', timeoutMs: 15000 });
  }
  return { env, wpctl, pactl, runtime, home, bus, socket: join(runtime, 'pulse', 'native') };
}

/** The default sink's volume (0–100) and mute as wpctl reports them. */
export function pipewireVolume(pw) {
  const text = pw.wpctl('get-volume', '@DEFAULT_AUDIO_SINK@');
  return { level: Math.round(Number(/Volume:\s*([\d.]+)/.exec(text)[1]) * 100), muted: /MUTED/.test(text) };
}
