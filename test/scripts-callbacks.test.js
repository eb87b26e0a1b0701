// Callbacks: scripts run on player events. Against a real MPD (mpc pause →
// the pause callback within 1 s, with the event JSON on stdin), a slow
// callback that does not hold up another kind, coalescing, volume events,
// the pure event derivation, and config checks. Every run audited.
import t from 'tap';
import { EventEmitter } from 'node:events';
import { writeFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Config } from '../dist/core/config/store.js';
import { PlayerHub } from '../dist/core/players/hub.js';
import { LiveState } from '../dist/core/live.js';
import { Callbacks, derivePlayerEvents, CALLBACK_ACTOR } from '../dist/core/callbacks.js';
import { preloadScriptRunner } from '../dist/core/scripts.js';
import { tempDir, waitFor } from './helpers/proc.js';
import { cliEnv } from './helpers/cli.js';
import { startMpd } from './helpers/mpd.js';

function setup(t, tree, extraEnv = {}) {
  const c = cliEnv(t, extraEnv);
  const out = tempDir(t, 'mg-cb-');
  const full = typeof tree === 'function' ? tree(out) : tree;
  writeFileSync(join(c.configDir, 'config.json'), JSON.stringify(full), { mode: 0o600 });
  const events = [];
  return { ...c, out, config: Config.load(c.env), events, audit: { append: (e) => events.push(e) } };
}

const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
const lines = (p) => (existsSync(p) ? readFileSync(p, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);

function state(over = {}) {
  return {
    player: 'mpd', status: 'playing', title: 'A', artist: 'X', album: 'L', duration: 60, position: 1, positionUpdatedAt: null,
    volume: 50, shuffle: false, repeat: 'off', artUrl: null, capabilities: {}, ...over,
  };
}
const snap = (players, active = players[0]?.player) => ({ players, active: players.find((p) => p.player === active) ?? null, volume: null, problems: [] });

t.test('derivePlayerEvents', async (t) => {
  const T = '2030-01-01T00:00:00.000Z';
  const kinds = (a, b) => derivePlayerEvents(a, b, T).map((e) => `${e.event}:${e.player}`);
  t.same(kinds(snap([state({ status: 'playing' })]), snap([state({ status: 'paused' })])), ['pause:mpd']);
  t.same(kinds(snap([state({ status: 'paused' })]), snap([state({ status: 'playing' })])), ['play:mpd']);
  t.same(kinds(snap([state({ status: 'playing' })]), snap([state({ status: 'stopped', title: null, artist: null, album: null })])), ['stop:mpd'], 'stop: no trackChange to nothing');
  t.same(kinds(snap([state()]), snap([state({ title: 'B' })])), ['trackChange:mpd']);
  t.same(kinds(snap([state({ status: 'stopped', title: null, artist: null, album: null })]), snap([state({ title: 'B' })])), ['play:mpd', 'trackChange:mpd']);
  t.same(kinds(snap([state()]), snap([state({ position: 30 })])), [], 'a position change is no event');
  t.same(kinds(snap([state()]), snap([state({ volume: 10 })])), [], 'player volume in the snapshot is not volumeChange (that comes from volume events)');
  t.same(kinds(snap([state()]), snap([])), ['stop:mpd'], 'the active player disappearing while playing is stop');
  t.same(kinds(snap([]), snap([state()])), ['play:mpd'], 'a player appearing while playing is play');
  t.same(kinds(snap([]), snap([state({ status: 'paused' })])), [], 'appearing paused is nothing');
  // The active player changes because the old one paused: its pause is still seen.
  const mpdPlaying = state({ player: 'mpd', status: 'playing' });
  const mpvPlaying = state({ player: 'mpv', status: 'playing', title: 'V' });
  t.same(kinds(snap([mpdPlaying, mpvPlaying], 'mpd'), snap([state({ player: 'mpd', status: 'paused' }), mpvPlaying], 'mpv')), ['pause:mpd']);
  t.same(kinds(snap([mpdPlaying, state({ player: 'mpv', status: 'paused' })], 'mpd'), snap([mpdPlaying, state({ player: 'mpv', status: 'paused', title: 'W' })], 'mpd')), [], 'an inactive player is ignored');
  const [e] = derivePlayerEvents(snap([state({ status: 'playing' })]), snap([state({ status: 'paused', position: 12.5 })]), T);
  t.same(e, { event: 'pause', time: T, player: 'mpd', status: 'paused', title: 'A', artist: 'X', album: 'L', duration: 60, position: 12.5, previous: { status: 'playing', title: 'A', artist: 'X', album: 'L' } });
});

t.test('config: callbacks must name defined scripts that need no parameters', async (t) => {
  const live = { snapshot: () => snap([]), on() {}, off() {} };
  let s = setup(t, { callbacks: { on: { pause: 'missing' } } });
  t.throws(() => new Callbacks({ live, config: s.config, audit: s.audit }).start(), { code: 'callbacks.unknown_script', exitCode: 5, message: /callbacks\.on\.pause names script 'missing'/ });
  s = setup(t, { callbacks: { on: { play: 'p' } }, scripts: { p: { command: ['echo', '{x}'], params: { x: { pattern: '.*', required: true } } } } });
  t.throws(() => new Callbacks({ live, config: s.config, audit: s.audit }).start(), { code: 'callbacks.script_needs_params' });
  s = setup(t, { callbacks: { on: { play: 'p' } }, scripts: { p: { command: ['true'] } } });
  const cb = new Callbacks({ live, config: s.config, audit: s.audit }).start();
  t.same(cb.configured(), { play: 'p' });
  await cb.stop();
});

t.test('real MPD: mpc pause runs the pause callback within 1 s; a slow play callback holds up nothing', async (t) => {
  const mpd = await startMpd(t);
  const env = { ...process.env, MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) };
  const s = setup(t, (out) => ({
    callbacks: { on: { pause: 'onpause', play: 'onplay', trackChange: 'ontrack' } },
    scripts: {
      onpause: { command: ['sh', '-c', `cat > '${join(out, 'pause.tmp')}' && mv '${join(out, 'pause.tmp')}' '${join(out, 'pause.json')}'`] },
      onplay: { command: ['sh', '-c', `cat >> '${join(out, 'play.log')}'; sleep 30`], timeout: 60 },
      ontrack: { command: ['sh', '-c', `cat >> '${join(out, 'track.log')}'`] },
    },
  }));
  mpd.mpc('-q', 'play');
  const hub = new PlayerHub({ env, config: s.config });
  const live = new LiveState(hub, { env, config: s.config, player: 'mpd' });
  t.teardown(() => live.stop().then(() => hub.close()));
  await live.start();
  t.equal(live.snapshot().active?.status, 'playing');
  const cb = new Callbacks({ live, config: s.config, audit: s.audit, env }).start();
  t.teardown(() => cb.stop());
  await preloadScriptRunner(); // start() began loading execa; a server has long finished by the first event
  const pauseFile = join(s.out, 'pause.json');

  let t0 = Date.now();
  mpd.mpc('-q', 'pause');
  await waitFor(() => existsSync(pauseFile), { timeoutMs: 3000, stepMs: 5, what: 'the pause callback' });
  const pauseMs = Date.now() - t0;
  t.ok(pauseMs < 1000, `pause callback ran ${pauseMs} ms after mpc pause`);
  t.match(readJson(pauseFile), { event: 'pause', player: 'mpd', status: 'paused', title: 'SineA', artist: 'Probe', previous: { status: 'playing', title: 'SineA' } }, 'the event JSON arrived on stdin');

  // play → the play callback starts and sleeps 30 s …
  mpd.mpc('-q', 'play');
  await waitFor(() => lines(join(s.out, 'play.log')).length === 1, { timeoutMs: 3000, stepMs: 5, what: 'the play callback' });
  t.match(lines(join(s.out, 'play.log'))[0], { event: 'play', status: 'playing', previous: { status: 'paused' } });
  // … and the next pause still runs its callback at once.
  rmSync(pauseFile);
  t0 = Date.now();
  mpd.mpc('-q', 'pause');
  await waitFor(() => existsSync(pauseFile), { timeoutMs: 3000, stepMs: 5, what: 'the second pause callback' });
  const secondMs = Date.now() - t0;
  t.ok(secondMs < 1000, `the sleeping play callback did not delay the pause callback (${secondMs} ms)`);

  // Track change while the play callback is still asleep.
  mpd.mpc('-q', 'play');
  mpd.mpc('-q', 'next');
  await waitFor(() => lines(join(s.out, 'track.log')).some((e) => e.title === 'SineB'), { timeoutMs: 3000, stepMs: 5, what: 'the trackChange callback' });
  t.match(lines(join(s.out, 'track.log')).find((e) => e.title === 'SineB'), { event: 'trackChange', player: 'mpd', previous: { title: 'SineA' } });
  t.equal(lines(join(s.out, 'play.log')).length, 1, 'the second play waits (coalesced) behind the sleeping one');
  // Let the quick runs finish (their output is written a moment before they exit) before stopping.
  const finished = (target, n) => s.events.filter((e) => e.target === target && e.outcome === 'ok').length >= n;
  await waitFor(() => finished('onpause', 2) && finished('ontrack', 1), { timeoutMs: 5000, what: 'the quick callbacks to finish' });

  // Shutdown ends the sleeping callback (and drops the waiting one) quickly.
  t0 = Date.now();
  await cb.stop();
  t.ok(Date.now() - t0 < 5000, `stop() ended the running callback in ${Date.now() - t0} ms`);
  t.equal(lines(join(s.out, 'play.log')).length, 1, 'the waiting play event was dropped at stop');

  const runs = s.events.filter((e) => e.action === 'script.run');
  t.ok(runs.every((e) => e.actor.id === CALLBACK_ACTOR.id), 'actor system:callback');
  t.equal(runs.filter((e) => e.target === 'onpause' && e.outcome === 'ok').length, 2, 'both pause runs audited');
  t.ok(runs.some((e) => e.target === 'ontrack' && e.outcome === 'ok' && /callback trackChange/.test(e.detail)), 'the track run audited');
  t.ok(runs.some((e) => e.target === 'onplay' && e.outcome === 'error' && /callback play; interrupted \(mediagate is shutting down\), (killed by SIGTERM|exit)/.test(e.detail)), 'the play run, ended at stop, audited');
});

t.test('coalescing, failing callbacks and volume events (fake LiveState)', async (t) => {
  const s = setup(t, (out) => ({
    callbacks: { on: { trackChange: 'slowtrack', pause: 'fails', volumeChange: 'vol' } },
    scripts: {
      slowtrack: { command: ['sh', '-c', `cat >> '${join(out, 'track.log')}'; sleep 0.5`] },
      fails: { command: ['sh', '-c', `cat >> '${join(out, 'fail.log')}'; exit 4`] },
      vol: { command: ['sh', '-c', `cat >> '${join(out, 'vol.log')}'`] },
    },
  }));
  const live = new EventEmitter();
  let current = snap([state({ title: 't0' })]);
  live.snapshot = () => current;
  const runs = [];
  const cb = new Callbacks({ live, config: s.config, audit: s.audit, onRun: (kind, o) => runs.push([kind, o.result?.exitCode]) }).start();
  t.teardown(() => cb.stop());

  for (let i = 1; i <= 6; i++) {
    current = snap([state({ title: `t${i}` })]);
    live.emit('status', current);
  }
  await cb.idle();
  const track = lines(join(s.out, 'track.log'));
  t.same(track.map((e) => e.title), ['t1', 't6'], 'one run going, one waiting: the waiting one is replaced by the newest');
  t.equal(cb.coalesced, 4);

  // A failing callback is audited as an error and does not stop later events.
  for (const status of ['paused', 'playing', 'paused']) {
    current = snap([state({ title: 't6', status })]);
    live.emit('status', current);
    await cb.idle();
  }
  t.equal(lines(join(s.out, 'fail.log')).length, 2, 'each pause ran its (failing) callback');
  t.equal(s.events.filter((e) => e.target === 'fails' && e.outcome === 'error').length, 2);

  // Volume: the first reading is the starting point; changes after it are events.
  live.emit('volume', { level: 50, muted: false, target: 'system', backend: 'pulse' });
  live.emit('volume', { level: 50, muted: false, target: 'system', backend: 'pulse' });
  live.emit('volume', { level: 40, muted: false, target: 'system', backend: 'pulse' });
  await cb.idle();
  live.emit('volume', { level: 40, muted: true, target: 'system', backend: 'pulse' });
  await cb.idle();
  const vol = lines(join(s.out, 'vol.log'));
  t.same(vol.map((e) => [e.level, e.muted, e.previous]), [[40, false, { level: 50, muted: false }], [40, true, { level: 40, muted: false }]]);
  t.match(vol[0], { event: 'volumeChange', player: 'mpd', target: 'system', backend: 'pulse' });
  t.ok(s.events.every((e) => e.actor.id === 'system:callback'), 'every run audited as system:callback');
  t.equal(s.events.filter((e) => e.action === 'script.run').length, 2 + 2 + 2, 'every run audited');
  t.same(runs.filter(([k]) => k === 'volumeChange').map(([, c]) => c), [0, 0]);
});

t.test('two events naming the same script do not wait for each other, and a hung callback does not make the script busy', async (t) => {
  // One script for pause and play: on pause it hangs (until its 30 s timeout), on play it writes at once.
  const s = setup(t, (out) => ({
    callbacks: { on: { pause: 'both', play: 'both' } },
    scripts: {
      both: {
        command: ['sh', '-c', `read -r line; case "$line" in *'"event":"pause"'*) echo pause >> '${join(out, 'started.log')}'; sleep 30;; *) printf '%s\\n' "$line" >> '${join(out, 'play.log')}';; esac`],
        timeout: 30,
      },
    },
  }));
  const { runScript } = await import('../dist/core/scripts.js');
  const live = new EventEmitter();
  let current = snap([state({ status: 'playing' })]);
  live.snapshot = () => current;
  const cb = new Callbacks({ live, config: s.config, audit: s.audit }).start();
  t.teardown(() => cb.stop());
  await preloadScriptRunner();

  current = snap([state({ status: 'paused' })]);
  live.emit('status', current);
  await waitFor(() => existsSync(join(s.out, 'started.log')), { timeoutMs: 10000, what: 'the pause callback to start (and hang)' });
  current = snap([state({ status: 'playing' })]);
  live.emit('status', current);
  // Within 10 s: the pause run would hold a shared lock for 30 s.
  await waitFor(() => lines(join(s.out, 'play.log')).length === 1, { timeoutMs: 10000, what: 'the play callback, while the pause one still hangs' });
  t.match(lines(join(s.out, 'play.log'))[0], { event: 'play', status: 'playing', previous: { status: 'paused' } });
  t.notOk(s.events.some((e) => e.target === 'both' && /pause/.test(e.detail)), 'the pause run is still going');

  // A client's run of the same script is not refused as busy meanwhile.
  const r = await runScript(s.config, 'both', {}, { actor: { id: 'token:tok_x', label: 'x' }, audit: s.audit, scope: 'admin', input: '{"event":"manual"}\n' });
  t.equal(r.exitCode, 0, 'not script.busy');
  t.equal(lines(join(s.out, 'play.log')).at(-1).event, 'manual');

  await cb.stop(); // ends the hung run
  const pauseRun = s.events.find((e) => e.target === 'both' && /^callback pause/.test(e.detail));
  t.match(pauseRun, { outcome: 'error', actor: { id: 'system:callback' } }, 'the hung run, ended at stop, is audited');
  t.match(pauseRun.detail, /interrupted/);
});
