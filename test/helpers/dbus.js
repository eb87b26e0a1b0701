// A private D-Bus session bus, mpv with mpv-mpris on it, and tiny fake MPRIS
// players (real D-Bus peers made with dbus-next) for cases mpv cannot produce.
// Every process is stopped by PID when the test ends.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import dbus from 'dbus-next';
import { tempDir, waitFor, startDaemon, sh } from './proc.js';

const MPRIS_SCRIPT = '/usr/lib/mpv-mpris/mpris.so';
const PREFIX = 'org.mpris.MediaPlayer2.';

/**
 * Start `dbus-daemon --session` on a socket in a temp dir.
 * Returns {address, socket, dir, env, pid, stop()}; `env` is process.env with
 * DBUS_SESSION_BUS_ADDRESS pointing at the private bus.
 */
export async function startSessionBus(t) {
  const dir = tempDir(t, 'mg-bus-');
  const socket = join(dir, 'bus');
  const address = `unix:path=${socket}`;
  const daemon = startDaemon('dbus-daemon',
    ['--session', '--nofork', '--nopidfile', `--address=${address}`],
    { logFile: join(dir, 'dbus.log') });
  t.teardown(() => daemon.stop());
  const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: address };
  await waitFor(() => statSync(socket).isSocket(), { what: 'dbus-daemon socket' });
  await waitFor(() => busCall(env, 'GetId') !== '', { what: 'dbus-daemon to answer' });
  return { address, socket, dir, env, pid: daemon.pid, stop: () => daemon.stop() };
}

/** Call a method of the bus daemon with dbus-send; returns its printed reply. */
export function busCall(env, member, ...args) {
  return sh('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus',
    '/org/freedesktop/DBus', `org.freedesktop.DBus.${member}`, ...args], { env });
}

/** Player names (`mpv`, `mpv.instance42`) on the bus, as playerctl sees them. */
export function playerctlList(env) {
  try { return sh('playerctl', ['-l'], { env }).split('\n').filter(Boolean); } catch { return []; }
}

function ownerPid(env, player) {
  try {
    const out = busCall(env, 'GetConnectionUnixProcessID', `string:${PREFIX}${player}`);
    return Number(/uint32 (\d+)/.exec(out)?.[1]);
  } catch { return undefined; }
}

/**
 * Start mpv with mpv-mpris on `bus`, playing `files`. mpv-mpris names itself
 * `mpv`, or `mpv.instance<PID>` when `mpv` is taken; `name` forces the name to
 * wait for. Waits until playerctl lists it. Returns
 * {pid, name, ipcPath, stop(), playerctl(...args)}.
 */
export async function startMpv(t, bus, files, { name } = {}) {
  const dir = tempDir(t, 'mg-mpv-');
  const ipcPath = join(dir, 'mpv.sock');
  const mpv = startDaemon('mpv', ['--no-config', '--ao=null', '--vo=null', '--idle=yes', '--no-terminal',
    `--script=${MPRIS_SCRIPT}`, `--input-ipc-server=${ipcPath}`, ...files],
  { env: bus.env, logFile: join(dir, 'mpv.log') });
  t.teardown(() => mpv.stop());
  const found = await waitFor(() => {
    if (mpv.child.exitCode !== null) throw new Error(`mpv exited with ${mpv.child.exitCode}`);
    const names = playerctlList(bus.env);
    if (name) return names.includes(name) && name;
    if (names.includes(`mpv.instance${mpv.pid}`)) return `mpv.instance${mpv.pid}`;
    return names.includes('mpv') && ownerPid(bus.env, 'mpv') === mpv.pid && 'mpv';
  }, { what: 'mpv on the bus (playerctl -l)' });
  return {
    pid: mpv.pid,
    name: found,
    ipcPath,
    stop: () => mpv.stop(),
    /** `playerctl -p <name> ...args` on the private bus; trimmed stdout. */
    playerctl: (...args) => sh('playerctl', ['-p', found, ...args], { env: bus.env }),
  };
}

const { Message, Variant } = dbus;
const v = (sig, value) => new Variant(sig, value);

/** `{key: [signature, value]}` → a{sv} of Variants; 'x'/'t' values become BigInts, 'v' wraps `[sig, value]` once more. */
function metadataVariants(entries) {
  const out = {};
  for (const [k, [sig, val]] of Object.entries(entries)) out[k] = variantOf(sig, val);
  return out;
}
function variantOf(sig, val) {
  if (sig === 'x' || sig === 't') return v(sig, BigInt(val));
  if (sig === 'v') return v('v', variantOf(val[0], val[1]));
  return v(sig, val);
}

/**
 * A minimal MPRIS player exported on `bus` (a real peer on the real bus).
 * Options: name ('fake'), props (overrides of Player properties, plain values; null leaves one out),
 * metadata (exact Metadata as {key: [D-Bus signature, value]}, e.g.
 * {'xesam:artist': ['as', ['A', 'B']], 'mpris:length': ['x', 1e8]}; default: a
 * track id and '<name> title'), writable (accept Properties.Set of LoopStatus,
 * Shuffle, Volume and emit PropertiesChanged, as a real player does),
 * hang (never answer Properties calls), fail ({Member: 'error text'} answers that
 * Player method with a D-Bus error). Returns {name, calls, stop()}; `calls`
 * lists the Player methods received (with `args` beside, in `callArgs`); `propCalls` counts Properties calls (Get,
 * GetAll, Set — answered or swallowed); changed({Prop: value}) emits PropertiesChanged;
 * setMetadata(entries) replaces the metadata and emits PropertiesChanged;
 * setHang(bool) makes it stop (or start again) answering Properties calls.
 */
export async function startFakePlayer(t, bus, { name = 'fake', props = {}, metadata, writable = false, ignoreSets = false, hang: hangAtStart = false, fail = {} } = {}) {
  let hang = hangAtStart;
  const conn = dbus.sessionBus({ busAddress: bus.address });
  conn.on('error', () => {});
  const p = {
    PlaybackStatus: 'Paused', LoopStatus: 'None', Shuffle: false, Volume: 0.5, Position: 0,
    CanPlay: true, CanPause: true, CanSeek: false, CanGoNext: true, CanGoPrevious: true, CanControl: true,
    ...props,
  };
  const sig = { PlaybackStatus: 's', LoopStatus: 's', Shuffle: 'b', Volume: 'd', Position: 'x' };
  const playerProps = () => {
    const out = {};
    for (const [k, val] of Object.entries(p)) if (val !== null) out[k] = v(sig[k] ?? 'b', k === 'Position' ? BigInt(val) : val);
    out.Metadata = v('a{sv}', meta ? metadataVariants(meta) : { 'mpris:trackid': v('o', '/fake/track/1'), 'xesam:title': v('s', `${name} title`) });
    return out;
  };
  let meta = metadata;
  const calls = [];
  const callArgs = [];
  let propCalls = 0;
  conn.addMethodHandler((msg) => {
    if (msg.path !== '/org/mpris/MediaPlayer2') return false;
    if (msg.interface === 'org.freedesktop.DBus.Properties') {
      propCalls++;
      if (hang) return true; // swallow the call: the caller never gets an answer
      if (msg.member === 'GetAll') {
        const all = msg.body[0] === 'org.mpris.MediaPlayer2.Player' ? playerProps()
          : { Identity: v('s', `Fake ${name}`), CanQuit: v('b', false), CanRaise: v('b', false) };
        conn.send(Message.newMethodReturn(msg, 'a{sv}', [all]));
        return true;
      }
      if (msg.member === 'Get') {
        const val = playerProps()[msg.body[1]];
        if (!val) conn.send(Message.newError(msg, 'org.freedesktop.DBus.Error.UnknownProperty', 'no such property'));
        else conn.send(Message.newMethodReturn(msg, 'v', [val]));
        return true;
      }
      if (msg.member === 'Set' && (writable || ignoreSets) && ['LoopStatus', 'Shuffle', 'Volume'].includes(msg.body[1])) {
        conn.send(Message.newMethodReturn(msg, '', []));
        // ignoreSets: the player takes the call and keeps its old value (as VLC without an audio output does).
        if (!ignoreSets) changed({ [msg.body[1]]: msg.body[2].value });
        return true;
      }
      return false;
    }
    if (msg.interface === 'org.mpris.MediaPlayer2.Player') {
      calls.push(msg.member);
      callArgs.push(msg.body);
      if (fail[msg.member]) conn.send(Message.newError(msg, 'org.mpris.MediaPlayer2.Error.Failed', fail[msg.member]));
      else conn.send(Message.newMethodReturn(msg, '', []));
      return true;
    }
    return false;
  });
  await conn.requestName(PREFIX + name, 0);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // After its bus was killed the connection may be half torn down already: ending it is best effort.
    try { conn.disconnect(); } catch { /* gone with the bus */ }
    try { conn._connection?.stream?.destroy(); } catch { /* gone with the bus */ }
  };
  t.teardown(stop);
  /** Emit PropertiesChanged for Player properties (plain values, as in `props`). */
  const changed = (values) => {
    Object.assign(p, values);
    const all = playerProps();
    const out = {};
    for (const k of Object.keys(values)) out[k] = all[k];
    conn.send(Message.newSignal('/org/mpris/MediaPlayer2', 'org.freedesktop.DBus.Properties', 'PropertiesChanged',
      'sa{sv}as', ['org.mpris.MediaPlayer2.Player', out, []]));
  };
  const setHang = (on) => { hang = on; };
  const setMetadata = (entries) => {
    meta = entries;
    conn.send(Message.newSignal('/org/mpris/MediaPlayer2', 'org.freedesktop.DBus.Properties', 'PropertiesChanged',
      'sa{sv}as', ['org.mpris.MediaPlayer2.Player', { Metadata: playerProps().Metadata }, []]));
  };
  return { name, calls, callArgs, stop, changed, setHang, setMetadata, get propCalls() { return propCalls; } };
}
