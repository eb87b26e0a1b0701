// Path redaction in server errors keeps the hints readable: a real `serve`
// whose D-Bus session bus is gone (or was never there) answers a command
// with the hint the CLI gives — `DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$(id -u)/bus`,
// a template for the user to type, naming nothing on this machine — intact,
// while the real bus path of this machine in the same answer is still
// redacted. The function itself: the allowed templates and the paths,
// tokens and look-alikes that are still refused.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sanitizeMessage } from '../dist/server/http-error.js';
import { cliToken, serveEnv, startServe } from './helpers/serve.js';

const TEMPLATE = 'DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$(id -u)/bus';

async function playError(srv, token) {
  const r = await fetch(`${srv.url}/api/player/play`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
  return { status: r.status, text: await r.text() };
}

t.test('a real serve: the bus hint stays readable, the real bus path does not leak', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-hint-'));
  t.teardown(() => import('node:fs').then((fs) => fs.rmSync(dir, { recursive: true, force: true })));
  const gone = join(dir, 'secret-session', 'bus');
  const { env } = await serveEnv(t, { DBUS_SESSION_BUS_ADDRESS: `unix:path=${gone}` });
  const tok = (await cliToken(env, 'hint', 'control')).token;
  const srv = await startServe(t, env);
  const r = await playError(srv, tok);
  t.equal(r.status, 503, r.text);
  const { error } = JSON.parse(r.text);
  t.equal(error.code, 'player.none');
  t.ok(error.hint.includes(`${TEMPLATE} of the running desktop session`), `the hint is readable: ${error.hint}`);
  t.notOk(r.text.includes(dir) || r.text.includes('secret-session'), 'the real bus path is not in the answer');
  t.ok(error.hint.includes('no D-Bus session bus at <path> (no such socket)'), 'the real path is redacted where it stood');
  t.equal((await srv.stop()).code, 0);
});

t.test('a real serve with no session bus at all: the hint that says how to set one', async (t) => {
  const runtime = mkdtempSync(join(tmpdir(), 'mg-hint-rt-'));
  t.teardown(() => import('node:fs').then((fs) => fs.rmSync(runtime, { recursive: true, force: true })));
  const { env } = await serveEnv(t, { DBUS_SESSION_BUS_ADDRESS: '', XDG_RUNTIME_DIR: runtime });
  const tok = (await cliToken(env, 'hint', 'control')).token;
  const srv = await startServe(t, env);
  const r = await playError(srv, tok);
  t.equal(r.status, 503, r.text);
  const { error } = JSON.parse(r.text);
  t.ok(error.hint.includes(`${TEMPLATE} (the bus of the desktop session`), `the hint is readable: ${error.hint}`);
  t.notOk(r.text.includes(runtime), 'the runtime dir is not in the answer');
  t.equal((await srv.stop()).code, 0);
});

t.test('sanitizeMessage: templates allowed, real paths denied', async (t) => {
  const allowed = [
    `set ${TEMPLATE} of the session`,
    'set DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$UID/bus',
    'set DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/${UID}/bus',
    'set DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$(id -u)/bus, then retry',
    "quoted: '/run/user/$(id -u)/pulse/native'",
    'the socket is $XDG_RUNTIME_DIR/bus',
  ];
  for (const s of allowed) t.equal(sanitizeMessage(s), s, `allowed: ${s}`);
  const denied = [
    ['no bus at unix:path=/run/user/1000/bus', 'no bus at unix:path=<path>'],
    ['see /home/alice/$(id -u)/bus', 'see <path>'],
    ['open /run/user/$(id -u)/../../../home/alice/.ssh/id_ed25519', 'open <path>'],
    ['at /run/user/$(whoami)/bus', 'at <path>'],
    ['at /run/user/$(id -u)/mg_AAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'at <path>'],
    ['at /run/user/$(id -u)x/bus', 'at <path>'],
    ['at /run/user/$(id -u)/bus/$(cat /etc/shadow)', 'at <path>'],
    ['no MPD at /run/mpd/socket: ENOENT', 'no MPD at <path>: ENOENT'],
  ];
  for (const [s, want] of denied) t.equal(sanitizeMessage(s), want, `denied: ${JSON.stringify(s)}`);
});
