// The native PulseAudio client's round trips against one real server
// (PulseAudio or pipewire-pulse), checked with pactl; shared by
// test/pulse-native.test.js and test/pulse-native-pipewire.test.js.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pulseVolume, pulseChannels } from './pulse.js';
import { cliEnv, runCli } from './cli.js';
import { tempDir, waitFor } from './proc.js';
import { PulseMixer } from '../../dist/core/volume/pulse/mixer.js';
import { watchMixer } from '../../dist/core/volume/watch.js';

/** A PATH without pactl (or any mixer tool): only node is run, by its absolute path. */
export function noToolsPath(t) {
  const dir = join(tempDir(t, 'mg-nopath-'), 'bin');
  mkdirSync(dir);
  return dir;
}

/** `start(t)` starts the server: {env, runtime, pactl(...args)}. */
export function nativeSuite(t, name, start) {
  t.test(`${name}: get, set and mute round trips checked with pactl`, async (t) => {
    const srv = await start(t);
    const { env } = cliEnv(t, { XDG_RUNTIME_DIR: srv.runtime, PATH: noToolsPath(t), MPD_PORT: '1' });
    let r = await runCli(['config', 'set', 'volume.backend', 'pulse'], { env });
    t.equal(r.code, 0, r.stderr);
    for (const level of [0, 1, 37, 64, 99, 100]) {
      srv.pactl('set-sink-volume', '@DEFAULT_SINK@', `${level}%`);
      r = await runCli(['volume', '--json'], { env });
      t.equal(r.code, 0, r.stderr);
      t.same(JSON.parse(r.stdout), { level, muted: false, target: 'system', backend: 'pulse' }, `pactl ${level}% → volume --json ${level}, without pactl on PATH`);
    }
    for (const level of [55, 3, 100, 42]) {
      r = await runCli(['volume', String(level)], { env });
      t.equal(r.code, 0, r.stderr);
      t.equal(pulseVolume(srv).level, level, `volume ${level} → pactl ${level}%`);
      t.same(pulseChannels(srv).map((c) => c.percent), [level, level], 'on both channels');
    }
    r = await runCli(['volume', '+5'], { env });
    t.equal(r.stdout, '47\n');
    t.equal(pulseVolume(srv).level, 47, '+5 → 47%');
    r = await runCli(['volume', 'mute'], { env });
    t.equal(r.code, 0, r.stderr);
    t.equal(pulseVolume(srv).muted, true, 'mute → pactl muted');
    r = await runCli(['volume', '--json'], { env });
    t.equal(JSON.parse(r.stdout).muted, true);
    r = await runCli(['volume', 'toggle-mute', '--json'], { env });
    t.equal(JSON.parse(r.stdout).muted, false, 'toggle-mute → unmuted');
    t.equal(pulseVolume(srv).muted, false);
    srv.pactl('set-sink-mute', '@DEFAULT_SINK@', '1');
    r = await runCli(['volume', '--json'], { env });
    t.equal(JSON.parse(r.stdout).muted, true, 'a mute made with pactl shows');
    srv.pactl('set-sink-volume', '@DEFAULT_SINK@', '120%');
    r = await runCli(['volume', '+5'], { env });
    t.equal(r.stdout, '120\n', 'boosted above 100 by pactl: +5 keeps it');
    t.equal(pulseVolume(srv).level, 120);
  });

  t.test(`${name}: an unbalanced two-channel volume keeps its balance`, async (t) => {
    const srv = await start(t);
    const env = { ...srv.env };
    srv.pactl('set-sink-volume', '@DEFAULT_SINK@', '30%', '90%');
    const mixer = new PulseMixer({ env, timeoutMs: 3000 });
    t.same(await mixer.get(), { level: 60, muted: false }, 'the level is the average of the channels, as pactl prints them');
    t.equal(mixer.via, 'native');
    for (const level of [80, 20, 61, 33]) {
      await mixer.set(level);
      const ch = pulseChannels(srv);
      t.equal(Math.round((ch[0].percent + ch[1].percent) / 2), level, `set ${level}: pactl's channels average ${level} (${ch[0].percent}% / ${ch[1].percent}%)`);
      t.ok(Math.abs(ch[1].raw / ch[0].raw - 3) < 0.1, `and the right channel stays 3× the left (${(ch[1].raw / ch[0].raw).toFixed(3)})`);
      t.same(await new PulseMixer({ env, timeoutMs: 3000 }).get(), { level, muted: false }, 'read back by a new client');
    }
    mixer.close();
  });

  t.test(`${name}: events for changes made with pactl`, async (t) => {
    const srv = await start(t);
    const seen = [];
    const stop = watchMixer('pulse', { ...srv.env }, (r) => seen.push(r ?? null), 3000);
    t.teardown(stop);
    // the first reading comes once the subscription is in force
    await waitFor(() => seen.length > 0, { what: 'the first reading', timeoutMs: 5000 });
    for (const level of [21, 22, 87]) {
      srv.pactl('set-sink-volume', '@DEFAULT_SINK@', `${level}%`);
      await waitFor(() => seen.some((r) => r?.level === level), { what: `an event with level ${level}`, timeoutMs: 5000 });
      t.pass(`pactl ${level}% → a reading with level ${level}`);
    }
    srv.pactl('set-sink-mute', '@DEFAULT_SINK@', '1');
    await waitFor(() => seen.at(-1)?.muted === true, { what: 'a muted reading', timeoutMs: 5000 });
    t.pass('pactl mute → a muted reading');
    t.notOk(seen.includes(null), 'no reading was missing while the server ran');
  });
}
