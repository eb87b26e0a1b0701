// `mediagate volume` against a real PulseAudio with a null sink, checked with pactl;
// and the player's own volume against a real MPD.
import t from 'tap';
import { startPulse, pulseVolume } from './helpers/pulse.js';
import { startMpd } from './helpers/mpd.js';
import { cliEnv, runCli } from './helpers/cli.js';

t.test('system volume through PulseAudio', async (t) => {
  const pa = await startPulse(t);
  const { env } = cliEnv(t, { XDG_RUNTIME_DIR: pa.runtime, MPD_PORT: '1' });
  pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '40%');

  let r = await runCli(['volume'], { env });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '40\n', 'reads the level pactl set');

  r = await runCli(['volume', '--json'], { env });
  t.same(JSON.parse(r.stdout), { level: 40, muted: false, target: 'system', backend: 'pulse' });

  r = await runCli(['volume', '55'], { env });
  t.equal(r.code, 0, r.stderr);
  t.equal(pulseVolume(pa).level, 55, 'volume 55 → pactl 55%');

  r = await runCli(['volume', '+5'], { env });
  t.equal(r.stdout, '60\n');
  t.equal(pulseVolume(pa).level, 60, '+5 → 60%');

  r = await runCli(['volume', '-5'], { env });
  t.equal(r.code, 0, r.stderr);
  t.equal(pulseVolume(pa).level, 55, '-5 (leading dash) → 55%');

  r = await runCli(['volume', '--json', '-10'], { env });
  t.equal(r.code, 0, r.stderr);
  t.equal(JSON.parse(r.stdout).level, 45, '-10 after a flag works too');

  pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '98%');
  r = await runCli(['volume', '+5'], { env });
  t.equal(pulseVolume(pa).level, 100, 'a change stops at 100');

  r = await runCli(['volume', 'mute'], { env });
  t.equal(r.code, 0, r.stderr);
  t.equal(pulseVolume(pa).muted, true, 'mute → pactl muted');
  r = await runCli(['volume', '--json'], { env });
  t.equal(JSON.parse(r.stdout).muted, true, 'status shows muted');
  r = await runCli(['volume', 'toggle-mute'], { env });
  t.equal(pulseVolume(pa).muted, false, 'toggle-mute → unmuted');
  r = await runCli(['volume', 'toggle-mute'], { env });
  t.equal(pulseVolume(pa).muted, true, 'toggle-mute → muted');
  r = await runCli(['volume', 'unmute'], { env });
  t.equal(pulseVolume(pa).muted, false, 'unmute → unmuted');

  r = await runCli(['volume', '150'], { env });
  t.equal(r.code, 2, '150 is a usage error');
  t.equal(pulseVolume(pa).level, 100, 'and changes nothing');

  // Boosted above 100 by pactl: reported as it is; +N keeps it (never silently lowers it); -N lowers from it.
  pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '120%');
  r = await runCli(['volume'], { env });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '120\n', 'the real level, 120');
  t.match(r.stderr, /note: the volume is 120, above 100/);
  r = await runCli(['volume', '+5'], { env });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '120\n');
  t.match(r.stderr, /\+5 left it there/);
  t.equal(pulseVolume(pa).level, 120, '+5 from 120 leaves pactl at 120 (not lowered to 100)');
  r = await runCli(['volume', '-5', '--json'], { env });
  t.equal(r.code, 0, r.stderr);
  t.equal(JSON.parse(r.stdout).level, 115);
  t.equal(pulseVolume(pa).level, 115, '-5 from 120 → 115');
  r = await runCli(['volume', '100'], { env });
  t.equal(pulseVolume(pa).level, 100, 'an absolute level brings it back into 0–100');
  t.notMatch(r.stderr, /note/);

  // A mute made with pactl shows in volume --json.
  pa.pactl('set-sink-mute', '@DEFAULT_SINK@', '1');
  r = await runCli(['volume', '--json'], { env });
  t.equal(JSON.parse(r.stdout).muted, true, 'pactl mute → muted: true');
  pa.pactl('set-sink-mute', '@DEFAULT_SINK@', '0');
  r = await runCli(['volume', '--json'], { env });
  t.equal(JSON.parse(r.stdout).muted, false, 'pactl unmute → muted: false');

  r = await runCli(['config', 'set', 'volume.backend', 'pulse'], { env });
  t.equal(r.code, 0, r.stderr);
  r = await runCli(['volume', '30', '--json'], { env });
  t.equal(JSON.parse(r.stdout).backend, 'pulse');
  t.equal(pulseVolume(pa).level, 30);
});

t.test('no mixer: --target system is exit 3 naming each backend', async (t) => {
  const { env } = cliEnv(t, { MPD_PORT: '1' });
  const r = await runCli(['volume', '--target', 'system'], { env });
  t.equal(r.code, 3);
  t.match(r.stderr, /no system mixer found/);
  t.match(r.stderr, /pulse:.*pipewire:.*alsa:/s);
});

t.test("the player's own volume (MPD software mixer)", async (t) => {
  const mpd = await startMpd(t);
  const { env } = cliEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) });
  mpd.mpc('volume', '40');
  let r = await runCli(['volume', '--target', 'player', '--player', 'mpd', '--json'], { env });
  t.equal(r.code, 0, r.stderr);
  t.same(JSON.parse(r.stdout), { level: 40, muted: false, target: 'player', backend: 'player' });
  r = await runCli(['volume', '-15', '--target', 'player', '--player', 'mpd'], { env });
  t.equal(r.code, 0, r.stderr);
  t.match(mpd.mpc('volume'), /25%/, 'mpc sees 25%');
  r = await runCli(['volume', 'mute', '--target', 'player', '--player', 'mpd'], { env });
  t.match(mpd.mpc('volume'), /\b0%/, 'mute sets 0');
  r = await runCli(['volume', 'unmute', '--target', 'player', '--player', 'mpd'], { env });
  t.match(mpd.mpc('volume'), /25%/, 'unmute restores 25');
  // without any system mixer, the player volume is the default
  r = await runCli(['volume', '--json', '--player', 'mpd'], { env });
  t.equal(JSON.parse(r.stdout).target, 'player');
});
