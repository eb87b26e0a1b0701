// MPD cover art through the MPD client's binary answers, against a real MPD:
// `readpicture` (embedded picture; the sox tracks have none, so MPD answers
// with no chunk) then `albumart` (cover.png next to the song), read in 8 KiB
// chunks and put back together byte for byte; no cover → null; a cover over
// the size limit → player.artwork_too_large; the connection stays usable.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MpdSource } from '../dist/core/players/mpd.js';
import { MpdConnection } from '../dist/core/players/mpd-protocol.js';
import { NoPlayerError } from '../dist/core/errors.js';
import { startMpd } from './helpers/mpd.js';
import { makeMusic, tempDir } from './helpers/proc.js';

const tcp = (host, port) => ({ kind: 'tcp', host, port, display: `${host}:${port}` });

t.test('albumart: cover.png in the song\'s folder, several chunks, exact bytes', async (t) => {
  const music = makeMusic(join(tempDir(t, 'mg-art-'), 'music'), 5);
  // A PNG signature and ~50 KB of random bytes: MPD serves cover files as they are, in 8 KiB chunks.
  const cover = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(50_000)]);
  writeFileSync(join(music, 'cover.png'), cover);
  const mpd = await startMpd(t, { musicDir: music });
  const src = new MpdSource({ env: {}, timeoutMs: 3000, address: tcp(mpd.host, mpd.port) });
  t.teardown(() => src.close());

  t.equal(await src.currentArtwork(1 << 20), null, 'nothing current (stopped, no song): null');
  mpd.mpc('-q', 'play', '1');
  const art = await src.currentArtwork(1 << 20);
  t.ok(art, 'found');
  t.equal(art.uri, 'a.ogg');
  t.equal(art.data.length, cover.length, `all ${cover.length} bytes (${Math.ceil(cover.length / 8192)} chunks)`);
  t.ok(art.data.equals(cover), 'byte for byte');

  const big = await src.currentArtwork(10_000).then(() => null, (e) => e);
  t.ok(big instanceof NoPlayerError && big.code === 'player.artwork_too_large', `over the limit: refused, not truncated (${big?.message})`);
  t.equal((await src.run(['status'])).find(([k]) => k === 'state')?.[1], 'play', 'the shared connection still answers after binary reads');
});

t.test('no cover at all: null (readpicture without a picture, albumart ACK "No file exists")', async (t) => {
  const music = makeMusic(join(tempDir(t, 'mg-noart-'), 'music'), 5);
  const mpd = await startMpd(t, { musicDir: music });
  mpd.mpc('-q', 'play', '2');
  const src = new MpdSource({ env: {}, timeoutMs: 3000, address: tcp(mpd.host, mpd.port) });
  t.teardown(() => src.close());
  t.equal(await src.currentArtwork(1 << 20), null);
  t.ok(Array.isArray(await src.run(['status'])), 'still usable');
});

t.test('binary chunks only where asked: a plain command that gets one drops the connection (protocol error)', async (t) => {
  const music = makeMusic(join(tempDir(t, 'mg-art2-'), 'music'), 5);
  writeFileSync(join(music, 'cover.png'), Buffer.from('89504e470d0a1a0a00', 'hex'));
  const mpd = await startMpd(t, { musicDir: music });
  const c = await MpdConnection.open(tcp(mpd.host, mpd.port), { timeoutMs: 3000, display: 'test' });
  t.teardown(() => c.close());
  const ok = await c.commandBinary('albumart', 'b.flac', 0);
  t.same(ok.data, Buffer.from('89504e470d0a1a0a00', 'hex'), 'commandBinary reads the chunk');
  t.equal(ok.pairs.find(([k]) => k === 'size')?.[1], '9');
  const err = await c.command('albumart', 'b.flac', 0).then(() => null, (e) => e);
  t.ok(err?.code === 'player.protocol' && /binary/.test(err.message), `command() refuses a binary answer (${err?.message})`);
  t.ok(c.closed, 'and the connection is dropped (its state is unknown)');
});
