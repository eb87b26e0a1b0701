// A subscriber of one player is pushed that player's own changes even while
// another player is the active one: a real `serve` with a playing MPRIS
// player (the active one, on a private bus) and a paused MPD; a seek on MPD
// (still paused, so still not active) reaches the subscriber of "mpd" and
// changes nothing for a subscriber of the active player.
import t from 'tap';
import { startSessionBus } from './helpers/dbus.js';
import { startMpd } from './helpers/mpd.js';
import { cliToken, serveEnv, startArtPlayer, startServe } from './helpers/serve.js';
import { connect } from './helpers/ws.js';

t.test('a non-active player\'s own change is pushed to its subscribers', async (t) => {
  const bus = await startSessionBus(t);
  await startArtPlayer(t, bus, {});
  const mpd = await startMpd(t);
  mpd.mpc('-q', 'play');
  mpd.mpc('-q', 'pause');
  const { env } = await serveEnv(t, { DBUS_SESSION_BUS_ADDRESS: bus.address, MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) }, { 'server.rateLimit.rps': 0 });
  const tok = (await cliToken(env, 'watcher', 'read')).token;
  const srv = await startServe(t, env);
  const url = `${srv.url.replace(/^http/, 'ws')}/api/ws`;

  const active = await connect(url, { token: tok });
  t.teardown(() => active.close());
  active.send({ type: 'subscribe' });
  const first = await active.next((m) => m.type === 'status' && m.data?.player === 'artplayer', 10000, 'the active player');
  t.equal(first.data.status, 'playing', 'automatic: the playing MPRIS player is the active one');

  const picked = await connect(url, { token: tok });
  t.teardown(() => picked.close());
  picked.send({ type: 'subscribe', player: 'mpd' });
  const before = await picked.next((m) => m.type === 'status', 10000, 'mpd\'s status');
  t.equal(before.data?.player, 'mpd');
  t.equal(before.data?.status, 'paused');
  t.ok((before.data?.position ?? 0) < 2, `mpd is at the start (${before.data?.position} s)`);

  mpd.mpc('-q', 'seek', '0:03');
  t.match(mpd.mpc('status'), /\[paused\]/, 'mpd stays paused, so it stays non-active');
  const after = await picked.next((m) => m.type === 'status' && (m.data?.position ?? 0) >= 3, 10000, 'mpd\'s new position');
  t.equal(after.data.player, 'mpd', 'the seek is pushed for mpd');
  t.equal(after.data.status, 'paused');

  // The subscriber of the active player: nothing about mpd (its player did not change).
  const stray = active.messages.filter((m) => m.type === 'status' && m.data?.player === 'mpd');
  t.same(stray, [], 'the active player\'s subscriber is not sent mpd\'s status');
  t.equal((await srv.stop()).code, 0);
});
