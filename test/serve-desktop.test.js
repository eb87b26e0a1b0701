// A real `mediagate serve` on the macOS backend (fake media-control and
// osascript first on PATH): GET /api/status answers from the stream, a
// control request reaches media-control, the change comes back through the
// stream and is pushed over the WebSocket; the artwork fetched once per track
// is served through the signed artwork link. And the same for Windows.
import t from 'tap';
import WebSocket from 'ws';
import { readFileSync } from 'node:fs';
import { fakeDesktop } from './helpers/fake-desktop.js';
import { startServe, serveEnv, api, cliToken } from './helpers/serve.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(fn, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) { const v = await fn(); if (v) return v; await sleep(50); }
  throw new Error(`timed out waiting for ${what}`);
}

for (const platform of ['darwin', 'win32']) {
  t.test(`serve on the ${platform} backends`, async (t) => {
    const fake = fakeDesktop(t);
    const { env } = await serveEnv(t, fake.env(platform), { 'mpd.enabled': false });
    const srv = await startServe(t, env);
    const { token } = await cliToken(env, 'desk', 'control');
    const first = await until(async () => {
      const r = await api(srv, 'GET', '/api/status', { token });
      return r.status === 200 && r.json.title ? r : undefined;
    }, 15000, 'a status with a title');
    t.match(first.json, { player: 'spotify', status: 'playing', capabilities: { canPause: true } });
    t.equal(typeof first.json.positionUpdatedAt, 'string');

    const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/api/ws`, ['mediagate.v1', `mediagate.token.${token}`]);
    t.teardown(() => ws.close());
    const pushed = [];
    ws.on('message', (m) => pushed.push(JSON.parse(String(m))));
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    ws.send(JSON.stringify({ type: 'subscribe', id: 1 }));

    const r = await api(srv, 'POST', '/api/player/pause', { token, json: {} });
    t.equal(r.status, 200, r.text);
    const tool = platform === 'darwin' ? 'media-control' : 'powershell.exe';
    if (platform === 'darwin') t.ok(fake.calls('media-control').some((c) => c.argv[0] === 'pause'), 'the pause went to media-control');
    else t.equal(fake.model().sessions[0].playback.status, 'Paused', 'the pause reached the media session');
    await until(async () => pushed.some((m) => m.type === 'status' && m.data?.status === 'paused'), 15000, 'the paused status pushed over the WebSocket');
    const after = await api(srv, 'GET', '/api/status', { token });
    t.equal(after.json.status, 'paused');
    t.ok(fake.calls(tool).length >= 1);

    // Artwork: fetched once for this track, then served through the signed link.
    const art = await until(async () => {
      const s = await api(srv, 'GET', '/api/status', { token });
      return s.json.artwork ? s.json.artwork : undefined;
    }, 15000, 'an artwork link');
    const img = await api(srv, 'GET', art);
    t.equal(img.status, 200);
    t.equal(img.headers['content-type'], 'image/png');
    if (platform === 'darwin') {
      const gets = fake.calls('media-control').filter((c) => c.argv[0] === 'get' && !c.argv.includes('--no-artwork'));
      t.equal(gets.length, 1, 'one get with artwork for this track');
      t.same(fake.calls('media-control').filter((c) => c.argv[0] === 'stream').map((c) => c.argv), [['stream', '--no-artwork', '--micros']], 'one stream, without artwork');
    }

    const vol = await api(srv, 'PUT', '/api/volume', { token, json: { level: 25 } });
    t.equal(vol.status, 200, vol.text);
    t.match(vol.json, { level: 25, target: 'system', backend: platform === 'darwin' ? 'macos' : 'windows' });
    t.equal(fake.model().volume.level, 25);
    const stopped = await srv.stop();
    t.equal(stopped.code, 0, 'serve stops cleanly');
    // Ended, or a zombie waiting to be reaped (its parent, serve, is gone). A helper that got its
    // end-of-input as serve stopped may need a moment on a loaded machine: waited for, up to 5 s.
    const ended = (pid) => {
      try { return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] === 'Z'; } catch { return true; }
    };
    for (const c of fake.calls(tool)) {
      for (let waited = 0; !ended(c.pid) && waited < 5000; waited += 50) await sleep(50);
      t.ok(ended(c.pid), `${tool} (pid ${c.pid}) ended with serve`);
    }
  });
}
