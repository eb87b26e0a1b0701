// The MPRIS backend suite (test/mpris.test.js: real dbus-daemon, mpv +
// mpv-mpris, fake peers) run again with one-shot sources, whose calls go over
// the small wire client instead of dbus-next (watch() still over dbus-next).
import t from 'tap';
import { MprisSource } from '../dist/core/players/mpris.js';
import { startSessionBus } from './helpers/dbus.js';

t.test('a one-shot source talks over the wire client, a watching one over dbus-next', async (t) => {
  const bus = await startSessionBus(t);
  const wire = new MprisSource({ env: bus.env, timeoutMs: 2000, oneShot: true });
  const full = new MprisSource({ env: bus.env, timeoutMs: 2000 });
  t.teardown(() => Promise.all([wire.close(), full.close()]));
  t.equal((await wire.connection()).constructor.name, 'WireBus');
  t.equal((await full.connection()).constructor.name, 'DbusNextBus');
});

process.env.MEDIAGATE_TEST_MPRIS_ONE_SHOT = '1';
await import('./mpris.test.js');
