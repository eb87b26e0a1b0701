// A control command races another client: MpdPlayer reads the state
// (playing: previous/next/seek allowed), then MPD is stopped by someone else
// before the command arrives, and MPD answers ACK 55 "Not playing". That is
// the same situation our own check refuses as player.unsupported (409 over
// HTTP), not a failure (it was a 500 `mpd.ack` — found by the adversarial
// suite's fuzzer sending concurrent control requests to a real serve).
import t from 'tap';
import { MpdSource, MpdPlayer, resolveMpdAddress } from '../dist/core/players/mpd.js';
import { NoPlayerError } from '../dist/core/errors.js';
import { startMpd } from './helpers/mpd.js';

t.test('MPD stopped by another client between our state read and the command', async (t) => {
  const mpd = await startMpd(t);
  const src = new MpdSource({ env: {}, timeoutMs: 2000, address: resolveMpdAddress({ env: { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) } }) });
  t.teardown(() => src.close());
  const [real] = await src.list();
  t.ok(real instanceof MpdPlayer);

  // The same MPD and connection; only the moment is forced: `mpc stop` runs right before our command is sent.
  let interfere = false;
  const racing = Object.create(src);
  racing.run = async (cmd) => {
    if (interfere) mpd.mpc('-q', 'stop');
    return src.run(cmd);
  };
  const p = new MpdPlayer(racing);

  for (const [what, run] of [
    ['previous', () => p.act('previous')],
    ['next', () => p.act('next')],
    ['seek to', () => p.seekTo(2)],
    ['seek by', () => p.seekBy(1)],
  ]) {
    mpd.mpc('-q', 'play', '1');
    interfere = false;
    t.equal((await p.state()).status, 'playing', `${what}: playing before`);
    interfere = true;
    const err = await run().then(() => null, (e) => e);
    interfere = false;
    t.type(err, NoPlayerError, `denied: ${what} after a concurrent stop is a NoPlayerError`);
    t.equal(err?.code, 'player.unsupported', `${what}: player.unsupported (409), not mpd.ack (500)`);
    t.match(err?.message, /cannot .* now/, `${what}: says why`);
  }

  // Allowed: without the race the same commands work.
  mpd.mpc('-q', 'play', '1');
  await p.act('next');
  t.match(mpd.mpc('status'), /\[playing\] #2\//, 'allowed: next while playing');
  await p.act('previous');
  t.match(mpd.mpc('status'), /\[playing\] #1\//, 'allowed: previous while playing');
});
