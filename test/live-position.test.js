// positionUpdatedAt changes only when the position is really reported anew
// (issue 14): a re-read of a player that plays on undisturbed, or stays
// paused, keeps the earlier position and its time, so the state is equal to
// the one already published and nothing is pushed; a seek, a status change or
// another track is news. Clients extrapolate position + (now −
// positionUpdatedAt) while playing, so the kept pair must still give the
// player's real position.
//
// Pure cases for carryPosition (each "kept" next to a "taken" one), then a real
// MPD under a real LiveState: 1,000 identical re-reads emit nothing, a seek
// emits, and the extrapolation matches MPD.
import t from 'tap';
import { carryPosition, POSITION_TOLERANCE_S } from '../dist/core/players/position.js';
import { LiveState } from '../dist/core/live.js';
import { PlayerHub } from '../dist/core/players/hub.js';
import { Config } from '../dist/core/config/store.js';
import { startMpd } from './helpers/mpd.js';
import { cliEnv } from './helpers/cli.js';

t.setTimeout(180000);

const at = (ms) => new Date(Date.UTC(2026, 0, 1, 12, 0, 0) + ms).toISOString();
const state = (over = {}) => ({
  player: 'mpd', status: 'playing', title: 'A', artist: 'X', album: 'L', duration: 30,
  position: 10, positionUpdatedAt: at(0), volume: 50, shuffle: false, repeat: 'off', artUrl: null,
  capabilities: { canPlay: true, canPause: true, canSeek: true, canGoNext: true, canGoPrevious: true, canSetVolume: true, canControl: true },
  ...over,
});

t.test('carryPosition: kept when the reading only confirms the extrapolation, taken when it is news', async (t) => {
  const prev = state();
  const kept = (next, why) => {
    const r = carryPosition(prev, next);
    t.same([r.position, r.positionUpdatedAt], [prev.position, prev.positionUpdatedAt], `kept: ${why}`);
    t.equal(r.volume, next.volume, 'the rest of the reading is the new one');
  };
  const taken = (next, why) => t.same(carryPosition(prev, next), next, `taken: ${why}`);

  kept(state({ position: 12.5, positionUpdatedAt: at(2500) }), 'playing on, 2.5 s later');
  taken(state({ position: 20, positionUpdatedAt: at(2500) }), 'seek forward');
  taken(state({ position: 3, positionUpdatedAt: at(2500) }), 'seek back');
  kept(state({ position: 12.5 + POSITION_TOLERANCE_S * 0.8, positionUpdatedAt: at(2500) }), 'within the tolerance');
  taken(state({ position: 12.5 + POSITION_TOLERANCE_S * 1.2, positionUpdatedAt: at(2500) }), 'drifted past the tolerance');
  taken(state({ status: 'paused', position: 12.5, positionUpdatedAt: at(2500) }), 'status change');
  taken(state({ title: 'B', position: 12.5, positionUpdatedAt: at(2500) }), 'another track');
  taken(state({ duration: 31, position: 12.5, positionUpdatedAt: at(2500) }), 'another length: another track');
  kept(state({ volume: 70, position: 12.5, positionUpdatedAt: at(2500) }), 'volume changed, position did not');
  taken(state({ position: 9, positionUpdatedAt: at(-1000) }), 'a reading older than the last one');
  taken(state({ position: null, positionUpdatedAt: null }), 'position unknown now');
  t.same(carryPosition(state({ position: null, positionUpdatedAt: null }), state()), state(), 'taken: position known again');

  const paused = state({ status: 'paused' });
  t.same(carryPosition(paused, state({ status: 'paused', positionUpdatedAt: at(60000) })).positionUpdatedAt, at(0), 'kept: paused, a minute later, same position');
  t.equal(carryPosition(paused, state({ status: 'paused', position: 25, positionUpdatedAt: at(60000) })).position, 25, 'taken: seek while paused');
  t.same(carryPosition(state({ player: 'mpv' }), state({ position: 12.5, positionUpdatedAt: at(2500) })).positionUpdatedAt, at(2500), 'taken: another player');
});

t.test('a real MPD: 1,000 identical re-reads emit nothing; a seek and a pause do; the kept position extrapolates right', async (t) => {
  const mpd = await startMpd(t);
  mpd.mpc('-q', 'play');
  // No session bus here: MPRIS reports the same problem at every re-read (it must not count as a change either).
  const { env } = cliEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port), DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' });
  const config = Config.load(env);
  const hub = new PlayerHub({ env, config });
  const live = new LiveState(hub, { env, config });
  t.teardown(async () => { await live.stop(); await hub.close(); });
  // Re-read by hand only (no watch): the test decides when a re-read happens.
  await live.refresh();
  let emitted = 0;
  live.on('status', () => { emitted++; });
  const first = live.snapshot().active;
  t.equal(first?.status, 'playing');

  const batch = () => ({ all: false, targets: new Map([['mpd\0mpd', { backend: 'mpd', name: 'mpd' }]]) });
  for (let i = 0; i < 1000; i++) await live.refresh(i % 2 ? undefined : batch()); // full and targeted re-reads alike
  t.equal(emitted, 0, '1,000 re-reads of a player playing on: no status event');
  const kept = live.snapshot().active;
  t.equal(kept.positionUpdatedAt, first.positionUpdatedAt, 'positionUpdatedAt is still the first reading’s');
  t.equal(kept.position, first.position, 'and so is the position');

  // What a client computes from the kept pair, against what MPD says now.
  const fresh = await hub.stateOf('mpd', 'mpd');
  const extrapolated = kept.position + (Date.parse(fresh.positionUpdatedAt) - Date.parse(kept.positionUpdatedAt)) / 1000;
  t.ok(Math.abs(extrapolated - fresh.position) <= POSITION_TOLERANCE_S,
    `extrapolated ${extrapolated.toFixed(3)} s vs MPD ${fresh.position.toFixed(3)} s after ${((Date.parse(fresh.positionUpdatedAt) - Date.parse(kept.positionUpdatedAt)) / 1000).toFixed(1)} s`);

  mpd.mpc('-q', 'seek', '+8');
  await live.refresh();
  t.equal(emitted, 1, 'a seek is news: one status event');
  const sought = live.snapshot().active;
  t.not(sought.positionUpdatedAt, first.positionUpdatedAt, 'with a new positionUpdatedAt');
  t.ok(sought.position >= kept.position + 8, `and the new position (${sought.position} s)`);

  mpd.mpc('-q', 'pause');
  await live.refresh();
  t.equal(emitted, 2, 'pausing is news');
  const paused = live.snapshot().active;
  for (let i = 0; i < 200; i++) await live.refresh();
  t.equal(emitted, 2, '200 re-reads while paused: nothing');
  t.same(live.snapshot().active, paused, 'the paused state is exactly the one published');
});
