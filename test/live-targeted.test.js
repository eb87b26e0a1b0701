// LiveState re-reads only the players an event names (see live-hung.test.js
// for the user-visible effect): here the bookkeeping that makes that safe,
// against real MPRIS peers on a private bus (MPD down, so its source is a
// problem): a silent player stays a problem without being asked on every
// event; one that starts answering again rejoins; one that stops answering
// becomes a problem; a player that appears or leaves the bus is picked up.
import t from 'tap';
import { LiveState } from '../dist/core/live.js';
import { PlayerHub } from '../dist/core/players/hub.js';
import { Config } from '../dist/core/config/store.js';
import { startSessionBus, startFakePlayer } from './helpers/dbus.js';
import { waitFor } from './helpers/proc.js';
import { cliEnv, runCli } from './helpers/cli.js';

const names = (live) => live.snapshot().players.map((p) => p.player).sort();
const problems = (live) => live.snapshot().problems.join('\n');

t.test('targeted re-reads keep the snapshot right', async (t) => {
  const bus = await startSessionBus(t);
  const alpha = await startFakePlayer(t, bus, { name: 'alpha', props: { PlaybackStatus: 'Playing' } });
  const sleepy = await startFakePlayer(t, bus, { name: 'sleepy', hang: true });
  const { env: base } = cliEnv(t);
  const env = { ...base, DBUS_SESSION_BUS_ADDRESS: bus.address, MPD_PORT: '1' };
  t.equal((await runCli(['config', 'set', 'backend.timeoutMs', '500'], { env })).code, 0);
  const config = Config.load(env);
  const hub = new PlayerHub({ env, config });
  const live = new LiveState(hub, { env, config });
  t.teardown(() => live.stop().then(() => hub.close()));
  await live.start();
  t.same(names(live), ['alpha'], 'the first reading: the answering player');
  t.match(problems(live), /sleepy.*did not answer within 500 ms/, 'the silent one is a problem');
  t.match(problems(live), /MPD|mpd/, 'and so is the MPD that is down');
  const asked = sleepy.propCalls;
  t.ok(asked > 0, 'the first (full) reading asked the silent player');

  alpha.changed({ PlaybackStatus: 'Paused' });
  await waitFor(() => live.snapshot().active?.status === 'paused', { timeoutMs: 5000, what: 'alpha paused' });
  t.pass('a change of alpha is seen');
  t.equal(sleepy.propCalls, asked, 'without asking the silent player again');
  t.match(problems(live), /sleepy.*did not answer/, 'which is still reported');
  t.match(problems(live), /MPD|mpd/, 'as is MPD');

  // The silent player answers again and says so: it is asked (off the update path) and rejoins.
  sleepy.setHang(false);
  sleepy.changed({ PlaybackStatus: 'Playing' });
  await waitFor(() => names(live).includes('sleepy'), { timeoutMs: 5000, what: 'sleepy to rejoin' });
  t.notMatch(problems(live), /sleepy/, 'no longer a problem once it answers');
  t.equal(live.snapshot().active?.player, 'sleepy', 'and, playing, it is the active player');

  // A known player stops answering: its event's re-read times out and it becomes a problem.
  alpha.setHang(true);
  alpha.changed({ PlaybackStatus: 'Playing' });
  await waitFor(() => !names(live).includes('alpha'), { timeoutMs: 5000, what: 'alpha to go silent' });
  t.match(problems(live), /alpha.*did not answer within 500 ms/, 'a player that stopped answering is a problem');
  const alphaAsked = alpha.propCalls;
  sleepy.changed({ PlaybackStatus: 'Paused' });
  await waitFor(() => live.snapshot().players.find((p) => p.player === 'sleepy')?.status === 'paused', { timeoutMs: 5000, what: 'sleepy paused' });
  t.equal(alpha.propCalls, alphaAsked, "another player's change does not ask the silent one");

  // A player that appears, and one that leaves the bus.
  const gamma = await startFakePlayer(t, bus, { name: 'gamma', props: { PlaybackStatus: 'Playing' } });
  await waitFor(() => names(live).includes('gamma'), { timeoutMs: 5000, what: 'gamma to appear' });
  t.equal(live.snapshot().active?.player, 'gamma', 'a new player is read (and, playing, active)');
  await gamma.stop();
  await waitFor(() => !names(live).includes('gamma'), { timeoutMs: 5000, what: 'gamma to leave' });
  t.same(names(live), ['sleepy'], 'a player that left the bus is gone from the snapshot');
  t.equal(live.snapshot().active?.player, 'sleepy');
});

t.test('--player: events of other players are not read', async (t) => {
  const bus = await startSessionBus(t);
  const alpha = await startFakePlayer(t, bus, { name: 'alpha', props: { PlaybackStatus: 'Playing' } });
  const other = await startFakePlayer(t, bus, { name: 'other' });
  const { env: base } = cliEnv(t);
  const env = { ...base, DBUS_SESSION_BUS_ADDRESS: bus.address, MPD_PORT: '1' };
  const config = Config.load(env);
  const hub = new PlayerHub({ env, config });
  const live = new LiveState(hub, { env, config, player: 'alpha' });
  t.teardown(() => live.stop().then(() => hub.close()));
  await live.start();
  t.same(names(live), ['alpha']);
  const asked = other.propCalls;
  other.changed({ PlaybackStatus: 'Playing' });
  alpha.changed({ PlaybackStatus: 'Paused' });
  await waitFor(() => live.snapshot().active?.status === 'paused', { timeoutMs: 5000, what: 'alpha paused' });
  t.equal(other.propCalls, asked, 'the player not followed was not asked');
  t.same(names(live), ['alpha']);
});
