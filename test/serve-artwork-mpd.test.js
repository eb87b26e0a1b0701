// MPD cover art through `mediagate serve`, with a real MPD: the status of the
// current song carries a short-lived signed link; it serves the cover.png next
// to the song (read from MPD in binary chunks) with a content ETag and 304;
// no token in the link; a song without a cover gets no link (MPD is asked
// first, so none answers 404); a link stops working when the song changes; a
// tampered one is 403; WebSocket subscribers get the link pushed once known.
import t from 'tap';
import WebSocket from 'ws';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startMpd } from './helpers/mpd.js';
import { makeMusic, tempDir } from './helpers/proc.js';
import { api, cliToken, serveEnv, startServe } from './helpers/serve.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A subscribed WebSocket; until(pred) resolves with the first message (past or future) that matches. */
async function subscribe(srv, tok) {
  const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/api/ws`, ['mediagate.v1'], { headers: { authorization: `Bearer ${tok}` } });
  const messages = [];
  const waiters = [];
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    messages.push(m);
    for (const w of [...waiters]) if (w.pred(m)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
  });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  ws.send(JSON.stringify({ type: 'subscribe' }));
  return {
    close: () => ws.close(),
    until: (pred, ms = 5000) => new Promise((resolve, reject) => {
      const hit = messages.find(pred);
      if (hit) return resolve(hit);
      waiters.push({ pred, resolve });
      setTimeout(() => reject(new Error(`no such message; got ${JSON.stringify(messages.map((m) => [m.type, m.data?.title, m.data?.artwork]))}`)), ms).unref();
    }),
  };
}

/** GET /api/status until `pred` holds (the live state follows MPD's events). */
async function statusUntil(srv, tok, pred, what) {
  const t0 = Date.now();
  for (;;) {
    const r = await api(srv, 'GET', '/api/status', { token: tok });
    if (pred(r.json)) return r.json;
    if (Date.now() - t0 > 5000) throw new Error(`status never showed ${what}: ${r.text}`);
    await sleep(50);
  }
}

t.test('MPD artwork: signed link, bytes from MPD, ETag + 304, 404 without a cover', async (t) => {
  const music = makeMusic(join(tempDir(t, 'mg-mpdart-'), 'music'), 30);
  // A PNG signature then random bytes (MPD serves cover files as they are): several 8 KiB chunks.
  const cover = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(30_000)]);
  writeFileSync(join(music, 'cover.png'), cover);
  mkdirSync(join(music, 'plain'));
  copyFileSync(join(music, 'c.mp3'), join(music, 'plain', 'd.mp3'));
  const mpd = await startMpd(t, { musicDir: music });
  const { env } = await serveEnv(t, { MPD_HOST: mpd.host, MPD_PORT: String(mpd.port) }, { 'volume.backend': 'player' });
  const tok = (await cliToken(env, 'art-reader', 'read')).token;
  const srv = await startServe(t, env);

  mpd.mpc('-q', 'clear');
  mpd.mpc('-q', 'add', 'a.ogg');
  mpd.mpc('-q', 'add', 'plain/d.mp3');
  mpd.mpc('-q', 'play', '1');
  const st = await statusUntil(srv, tok, (s) => s?.title === 'SineA' && s.artwork, 'SineA with artwork');
  t.equal(st.player, 'mpd');
  t.equal(st.artUrl, null, 'artUrl stays what MPD reports (nothing)');
  const link = st.artwork;
  t.match(link, /^\/api\/artwork\?player=mpd&a=[0-9a-f]{24}&exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
  t.notMatch(link, /mg_|token/, 'no token in the link');

  let r = await api(srv, 'GET', link);
  t.equal(r.status, 200, 'served without a bearer token');
  t.equal(r.headers['content-type'], 'image/png');
  const res = await fetch(`${srv.url}${link}`);
  const body = Buffer.from(await res.arrayBuffer());
  t.ok(body.equals(cover), `the exact ${cover.length} bytes of cover.png`);
  const etag = r.headers.etag;
  t.match(etag, /^"[A-Za-z0-9_-]{32}"$/, 'content ETag');
  t.equal(res.headers.get('etag'), etag, 'the same ETag for the same content');
  r = await api(srv, 'GET', link, { headers: { 'if-none-match': etag } });
  t.equal(r.status, 304, 'If-None-Match → 304');
  r = await api(srv, 'GET', link.replace(/sig=(.)/, (m, c) => `sig=${c === 'A' ? 'B' : 'A'}`));
  t.equal(r.status, 403, 'tampered → 403');
  t.equal(r.json.error.code, 'artwork.bad_signature');

  // The next song has no cover: no link is handed out for it (MPD was asked first); the old link no longer serves.
  mpd.mpc('-q', 'next');
  await statusUntil(srv, tok, (s) => s?.title === 'd.mp3', 'the second song');
  r = await api(srv, 'GET', link);
  t.equal(r.status, 404, 'the old link stops working when the song changes');
  t.equal(r.json.error.code, 'artwork.not_found');
  await sleep(500); // MPD has been asked by now
  const st2 = await statusUntil(srv, tok, (s) => s?.title === 'd.mp3', 'the second song');
  t.equal(st2.artwork, null, 'no cover: no link (never one that would answer 404)');

  // A song not seen before, with a cover: subscribers first get its status without a link (MPD is being
  // asked), then the same status again with the link — pushed, not polled.
  const sub = await subscribe(srv, tok);
  mpd.mpc('-q', 'add', 'b.flac');
  mpd.mpc('-q', 'play', '3');
  const first = await sub.until((m) => m.type === 'status' && m.data?.title === 'SineB');
  t.equal(first.data.artwork, null, 'the first push: no link yet');
  const pushed = await sub.until((m) => m.type === 'status' && m.data?.title === 'SineB' && m.data.artwork);
  t.match(pushed.data.artwork, /^\/api\/artwork\?player=mpd&/, 'then pushed again over the WebSocket, with the link');
  r = await api(srv, 'GET', pushed.data.artwork);
  t.equal(r.status, 200, 'and it serves');
  t.equal(r.headers.etag, etag, 'the same cover.png: the same content ETag');
  sub.close();
  t.equal((await srv.stop()).code, 0);
});
