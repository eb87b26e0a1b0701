// Callbacks in a real `mediagate serve`, fired by real daemons: MPD (mpc
// stop), PulseAudio (pactl set-sink-volume) and mpv with mpv-mpris on a
// private bus (playerctl pause). Each callback writes the event JSON it got
// on stdin to a file; the fields are checked. A sleeping play callback and a
// failing trackChange callback hold up neither another callback nor the
// WebSocket status push. Every run is audited as system:callback.
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMpd } from './helpers/mpd.js';
import { startPulse } from './helpers/pulse.js';
import { startSessionBus, startMpv } from './helpers/dbus.js';
import { connect } from './helpers/ws.js';
import { makeMusic, tempDir, waitFor } from './helpers/proc.js';
import { api, auditEvents, cliToken, serveEnv, startServe } from './helpers/serve.js';

const lines = (p) => (existsSync(p) ? readFileSync(p, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);

t.test('callbacks from real MPD, PulseAudio and mpv events in a real serve', async (t) => {
  const out = tempDir(t, 'mg-serve-cb-');
  const music = makeMusic(join(out, 'music'));
  const mpd = await startMpd(t);
  const pa = await startPulse(t);
  const bus = await startSessionBus(t);
  pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '40%');
  mpd.mpc('-q', 'stop');
  const { env, configDir } = await serveEnv(t, {
    MPD_HOST: mpd.host, MPD_PORT: String(mpd.port), XDG_RUNTIME_DIR: pa.runtime, DBUS_SESSION_BUS_ADDRESS: bus.address,
  });
  const append = (name) => ['sh', '-c', `cat >> '${join(out, `${name}.log`)}'`];
  writeFileSync(join(configDir, 'config.json'), JSON.stringify({
    server: { rateLimit: { rps: 0 } },
    callbacks: { on: { play: 'slowplay', pause: 'onpause', stop: 'onstop', trackChange: 'failing', volumeChange: 'onvol' } },
    scripts: {
      slowplay: { command: ['sh', '-c', `cat >> '${join(out, 'play.log')}'; sleep 30`], timeout: 60 },
      failing: { command: ['sh', '-c', `cat >> '${join(out, 'track.log')}'; exit 3`] },
      onpause: { command: append('pause') },
      onstop: { command: append('stop') },
      onvol: { command: append('vol') },
    },
  }), { mode: 0o600 });
  const reader = await cliToken(env, 'reader', 'read');
  const srv = await startServe(t, env);
  const ws = await connect(`${srv.url.replace(/^http/, 'ws')}/api/ws`, { token: reader.token });
  t.teardown(() => ws.close());
  ws.send({ type: 'subscribe' });
  await ws.next((m) => m.type === 'status', 5000, 'the first status');

  // play: its callback starts and sleeps 30 s.
  mpd.mpc('-q', 'play');
  await waitFor(() => lines(join(out, 'play.log')).length === 1, { timeoutMs: 10000, what: 'the play callback' });
  t.match(lines(join(out, 'play.log'))[0], { event: 'play', player: 'mpd', status: 'playing' });

  // A track change runs the failing callback (exit 3) while play sleeps.
  mpd.mpc('-q', 'next');
  await waitFor(() => lines(join(out, 'track.log')).some((e) => e.title === 'SineB'), { timeoutMs: 10000, what: 'the trackChange callback' });
  await waitFor(async () => (await auditEvents(env, ['--action', 'script.run'])).some((e) => e.target === 'failing' && e.outcome === 'error'),
    { timeoutMs: 10000, what: 'the failing callback to be audited' });

  // mpc stop, with play still asleep and trackChange just failed: the WS push and the stop callback both come.
  // (Generous limits: "it happens at all", while the play callback sleeps for 30 s.)
  ws.messages.forEach((m) => { m.__taken = true; });
  mpd.mpc('-q', 'stop');
  const pushed = await ws.next((m) => m.type === 'status' && m.data?.status === 'stopped', 5000, 'the status push for stop');
  t.equal(pushed.data.player, 'mpd', 'the WS status push came while a callback slept and another had failed');
  await waitFor(() => lines(join(out, 'stop.log')).length === 1, { timeoutMs: 5000, what: 'the stop callback' });
  const stop = lines(join(out, 'stop.log'))[0];
  t.match(stop, { event: 'stop', player: 'mpd', status: 'stopped', previous: { status: 'playing', title: 'SineB' } }, 'stop: event JSON on stdin');
  t.ok(!Number.isNaN(Date.parse(stop.time)), 'with a time');
  t.same(Object.keys(stop).sort(), ['album', 'artist', 'duration', 'event', 'player', 'position', 'previous', 'status', 'time', 'title']);
  t.equal(lines(join(out, 'play.log')).length, 1, 'play is still asleep (its first run)');

  // PulseAudio: pactl set-sink-volume → volumeChange.
  pa.pactl('set-sink-volume', '@DEFAULT_SINK@', '25%');
  await waitFor(() => lines(join(out, 'vol.log')).some((e) => e.level === 25), { timeoutMs: 5000, what: 'the volumeChange callback' });
  const vol = lines(join(out, 'vol.log')).find((e) => e.level === 25);
  t.match(vol, { event: 'volumeChange', level: 25, muted: false, target: 'system', backend: 'pulse', previous: { level: 40, muted: false } }, 'volumeChange: event JSON on stdin');
  t.ok(!Number.isNaN(Date.parse(vol.time)));
  pa.pactl('set-sink-mute', '@DEFAULT_SINK@', '1');
  await waitFor(() => lines(join(out, 'vol.log')).some((e) => e.muted === true), { timeoutMs: 5000, what: 'the mute volumeChange' });
  t.match(lines(join(out, 'vol.log')).find((e) => e.muted), { level: 25, muted: true, previous: { level: 25, muted: false } });

  // mpv appears playing on the bus (MPD is stopped), then playerctl pause → pause callback.
  const mpv = await startMpv(t, bus, [join(music, 'a.ogg')]);
  await waitFor(async () => {
    const r = await api(srv, 'GET', '/api/status', { token: reader.token });
    // mpv names the file until it has read the tags: wait for the title, so `previous` is settled.
    return r.status === 200 && /mpv/.test(r.json.player) && r.json.status === 'playing' && r.json.title === 'SineA';
  }, { timeoutMs: 10000, what: 'serve to follow mpv (playing SineA)' });
  mpv.playerctl('pause');
  await waitFor(() => lines(join(out, 'pause.log')).some((e) => /mpv/.test(e.player)), { timeoutMs: 5000, what: 'the pause callback for mpv' });
  const pause = lines(join(out, 'pause.log')).find((e) => /mpv/.test(e.player));
  t.match(pause, { event: 'pause', status: 'paused', title: 'SineA', artist: 'Probe', previous: { status: 'playing', title: 'SineA' } }, 'pause (mpv over MPRIS): event JSON on stdin');

  // A callback's output is in its file before the callback has exited and been audited:
  // wait for those runs to finish, or stopping serve would end (and audit) one of them as interrupted.
  const finished = async () => (await auditEvents(env, ['--action', 'script.run'])).filter((e) => e.actor.id === 'system:callback' && e.outcome === 'ok');
  await waitFor(async () => { const ok = await finished(); return ['onstop', 'onvol', 'onpause'].every((n) => ok.some((e) => e.target === n)); },
    { timeoutMs: 10000, what: 'the stop, volume and pause callbacks to finish' });
  t.equal((await srv.stop()).code, 0, 'serve stops (ending the sleeping play callback)');
  const runs = (await auditEvents(env, ['--action', 'script.run'])).filter((e) => e.actor.id === 'system:callback');
  for (const [target, outcome] of [['onstop', 'ok'], ['onvol', 'ok'], ['onpause', 'ok'], ['failing', 'error'], ['slowplay', 'error']]) {
    t.ok(runs.some((e) => e.target === target && e.outcome === outcome), `${target} audited (${outcome})`,
      { found: runs.filter((e) => e.target === target).map((e) => `${e.outcome}: ${e.detail}`) });
  }
  t.match(runs.find((e) => e.target === 'failing').detail, /^callback trackChange; exit 3/);
  t.match(runs.find((e) => e.target === 'slowplay').detail, /^callback play; interrupted/, 'the sleeping callback, ended at shutdown');
});
