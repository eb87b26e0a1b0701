/**
 * The remote (/): now playing with artwork, play/pause/next/previous, a seek
 * bar, volume and mute, a player picker, the media-folder browser, and the
 * connection state. Live over the WebSocket (live.ts); commands are API
 * calls with the session cookie (api.ts). Nothing is polled: between
 * pushes the seek bar moves by extrapolation (position.ts).
 */
import { api, ApiFailure, clockSkewMs, type PlayerRow, type Status, type Volume, type WhoAmI } from './api.js';
import { byId, clock, h, show, spokenClock } from './dom.js';
import { Live, type LiveState } from './live.js';
import { MediaBrowser } from './media-browser.js';
import { MediaSessionBridge } from './media-session.js';
import { positionAt } from './position.js';

const el = {
  conn: byId('conn'),
  signedOut: byId('signed-out'),
  signedOutWhy: byId('signed-out-why'),
  remote: byId('remote'),
  device: byId('device'),
  who: byId('who'),
  player: byId<HTMLSelectElement>('player'),
  art: byId<HTMLImageElement>('art'),
  title: byId('title'),
  artist: byId('artist'),
  album: byId('album'),
  playstate: byId('playstate'),
  elapsed: byId('elapsed'),
  duration: byId('duration'),
  seek: byId<HTMLInputElement>('seek'),
  prev: byId<HTMLButtonElement>('prev'),
  toggle: byId<HTMLButtonElement>('toggle'),
  next: byId<HTMLButtonElement>('next'),
  mute: byId<HTMLButtonElement>('mute'),
  volume: byId<HTMLInputElement>('volume'),
  volumeValue: byId<HTMLOutputElement>('volume-value'),
  readonly: byId('readonly'),
  lockRow: byId('lock-row'),
  lock: byId<HTMLInputElement>('lock-screen'),
  signout: byId<HTMLButtonElement>('signout'),
  toast: byId('toast'),
  silence: byId<HTMLAudioElement>('silence'),
};
const placeholderArt = el.art.dataset.placeholder ?? el.art.src;
// An artwork link that failed to load (expired, the song changed meanwhile)
// shows the placeholder instead of a broken image, until the server sends another.
let brokenArt: string | null = null;
el.art.addEventListener('error', () => {
  const failed = el.art.getAttribute('src');
  if (failed === null || failed === placeholderArt) return;
  brokenArt = failed;
  el.art.src = placeholderArt;
  el.art.alt = '';
});

let me: WhoAmI | null = null;
let pushed: Status | null = null; // the followed player (the picked one, else the active one), as the server pushes it
let volume: Volume | null = null;
let players: PlayerRow[] = [];
let seeking = false;
let volumeDragging = false;
let connected = false;
let ticker: number | undefined;

const canControl = (): boolean => me !== null && me.scope !== 'read';
const choice = (): string => el.player.value;
const shown = (): Status | null => pushed;

// --- errors ---------------------------------------------------------------------
let toastTimer: number | undefined;
function toast(text: string): void {
  el.toast.textContent = text;
  show(el.toast, true);
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => show(el.toast, false), 5000);
}

function report(e: unknown): void {
  if (e instanceof ApiFailure) {
    if (e.status === 401) { signedOut('This device was signed out (its token was revoked or has expired).'); return; }
    if (e.code === 'player.unsupported') { toast(`The player cannot do that: ${e.message}.`); return; }
    if (e.code === 'auth.insufficient_scope') { toast('This device may not do that (its token has too small a scope).'); return; }
    toast(e.message.endsWith('.') ? e.message : `${e.message}.`);
    return;
  }
  toast('Something went wrong.');
}

// --- rendering --------------------------------------------------------------------
function renderConnection(s: LiveState): void {
  el.conn.dataset.state = s.kind;
  connected = s.kind === 'open';
  document.body.classList.toggle('stale', !connected);
  clearTimeout(retryTicker);
  switch (s.kind) {
    case 'connecting': el.conn.textContent = 'Connecting…'; break;
    case 'open': el.conn.textContent = 'Live'; break;
    case 'offline': el.conn.textContent = 'Offline: waiting for the network…'; break;
    case 'waiting': countdown(s.retryAt); break;
    case 'signed-out': signedOut(`This device was signed out (${s.why}).`); break;
  }
}

let retryTicker: number | undefined;
function countdown(at: number): void {
  const left = Math.max(0, Math.ceil((at - Date.now()) / 1000));
  el.conn.textContent = left > 0 ? `Disconnected: reconnecting in ${left} s…` : 'Reconnecting…';
  if (left > 0) retryTicker = window.setTimeout(() => countdown(at), 1000);
}

function render(): void {
  const s = shown();
  const control = canControl();
  el.title.textContent = s?.title ?? (s ? 'Unknown title' : 'Nothing playing');
  el.artist.textContent = s?.artist ?? '';
  el.album.textContent = s?.album ?? '';
  el.playstate.textContent = s ? `${s.status[0]!.toUpperCase()}${s.status.slice(1)} on ${s.player}` : 'No player found';
  const art = s?.artwork && s.artwork !== brokenArt ? s.artwork : placeholderArt;
  if (el.art.getAttribute('src') !== art) el.art.src = art;
  el.art.alt = art !== placeholderArt ? `Cover of ${s?.album ?? s?.title ?? 'this track'}` : '';
  const playing = s?.status === 'playing';
  el.toggle.setAttribute('aria-label', playing ? 'Pause' : 'Play');
  el.toggle.classList.toggle('playing', playing);
  el.toggle.disabled = !control || !s || !(playing ? s.capabilities.canPause : s.capabilities.canPlay);
  el.prev.disabled = !control || !s?.capabilities.canGoPrevious;
  el.next.disabled = !control || !s?.capabilities.canGoNext;
  const dur = s?.duration ?? null;
  el.duration.textContent = clock(dur);
  el.seek.max = String(dur && dur > 0 ? Math.floor(dur) : 0);
  el.seek.disabled = !control || !s?.capabilities.canSeek || !dur;
  tick();
  session.update(s, s ? positionAt(s, Date.now(), clockSkewMs) : null);
  if (playing && ticker === undefined) ticker = window.setInterval(tick, 250);
  if (!playing && ticker !== undefined) { clearInterval(ticker); ticker = undefined; }
}

/** Move the seek bar (between pushes, by extrapolation). */
function tick(): void {
  if (seeking || document.hidden) return;
  const s = shown();
  const p = s ? positionAt(s, Date.now(), clockSkewMs) : null;
  el.elapsed.textContent = clock(p);
  el.seek.value = String(Math.floor(p ?? 0));
  el.seek.setAttribute('aria-valuetext', `${spokenClock(p)} of ${spokenClock(s?.duration)}`);
}

function renderVolume(): void {
  const v = volume;
  const control = canControl();
  el.volume.disabled = !control || v === null;
  el.mute.disabled = !control || v === null;
  if (!volumeDragging) el.volume.value = String(v?.level ?? 0);
  el.volumeValue.textContent = v ? (v.muted ? 'muted' : `${v.level}%`) : '–';
  el.mute.setAttribute('aria-pressed', String(Boolean(v?.muted)));
  el.mute.setAttribute('aria-label', v?.muted ? 'Unmute' : 'Mute');
  el.mute.classList.toggle('muted', Boolean(v?.muted));
}

function renderPlayers(): void {
  const keep = choice();
  const options = [h('option', { value: '' }, 'Automatic (most recently active)')];
  for (const p of players) options.push(h('option', { value: p.name }, `${p.name} (${p.status})`));
  if (keep && !players.some((p) => p.name === keep)) options.push(h('option', { value: keep }, `${keep} (gone)`));
  el.player.replaceChildren(...options);
  el.player.value = keep;
}

function signedOut(why: string): void {
  live.stop();
  me = null;
  el.signedOutWhy.textContent = `${why} To use this browser as a remote again, open a new invite link on it.`;
  show(el.signedOut, true);
  show(el.remote, false);
  show(byId('browse'), false);
  show(el.device, false);
  el.conn.dataset.state = 'signed-out';
  el.conn.textContent = 'Not paired';
  document.body.classList.remove('stale');
  void session.keepAlive(false);
}

// --- data -------------------------------------------------------------------------
async function loadPlayers(): Promise<void> {
  try {
    ({ players } = await api<{ players: PlayerRow[] }>('GET', '/api/players'));
    renderPlayers();
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 401) report(e);
  }
}


// --- actions ----------------------------------------------------------------------
/** The player a command is for: the picked one, else the one on screen. */
const target = (): string | undefined => choice() || shown()?.player || undefined;

async function act(action: 'play' | 'pause' | 'next' | 'previous'): Promise<void> {
  if (!canControl()) return;
  const player = target();
  try {
    await api('POST', `/api/player/${action}`, player ? { player } : {});
  } catch (e) {
    report(e);
  }
}

async function seekTo(position: number): Promise<void> {
  const player = target();
  try {
    await api('POST', '/api/player/seek', { position: Math.max(0, position), ...(player ? { player } : {}) });
  } catch (e) {
    report(e);
  }
}

let volumeTimer: number | undefined;
let volumeSentAt = 0;
async function sendVolume(body: { level?: number; muted?: boolean }): Promise<void> {
  try {
    volume = await api<Volume>('PUT', '/api/volume', body);
  } catch (e) {
    report(e);
  }
  if (!volumeDragging) renderVolume();
}

const session = new MediaSessionBridge({
  play: () => void act('play'),
  pause: () => void act('pause'),
  next: () => void act('next'),
  previous: () => void act('previous'),
  seekTo: (s) => void seekTo(s),
}, el.silence);

const live = new Live({
  status(s) {
    pushed = s;
    if (s && !players.some((p) => p.name === s.player)) void loadPlayers();
    render();
  },
  volume(v) {
    volume = v;
    renderVolume();
  },
  state: renderConnection,
});

function wire(): void {
  el.toggle.addEventListener('click', () => void act(shown()?.status === 'playing' ? 'pause' : 'play'));
  el.prev.addEventListener('click', () => void act('previous'));
  el.next.addEventListener('click', () => void act('next'));
  el.seek.addEventListener('input', () => {
    seeking = true;
    el.elapsed.textContent = clock(Number(el.seek.value));
  });
  el.seek.addEventListener('change', () => {
    const to = Number(el.seek.value);
    void seekTo(to).finally(() => { seeking = false; });
  });
  el.volume.addEventListener('input', () => {
    volumeDragging = true;
    const level = Number(el.volume.value);
    el.volumeValue.textContent = `${level}%`;
    // At most ~6 requests a second while dragging; the last value is sent on release.
    const wait = 160 - (Date.now() - volumeSentAt);
    clearTimeout(volumeTimer);
    volumeTimer = window.setTimeout(() => { volumeSentAt = Date.now(); void sendVolume({ level }); }, Math.max(0, wait));
  });
  el.volume.addEventListener('change', () => {
    clearTimeout(volumeTimer);
    volumeDragging = false;
    volumeSentAt = Date.now();
    void sendVolume({ level: Number(el.volume.value) });
  });
  el.mute.addEventListener('click', () => void sendVolume({ muted: !volume?.muted }));
  el.player.addEventListener('change', () => live.follow(choice() || null));
  el.player.addEventListener('focus', () => void loadPlayers());
  el.signout.addEventListener('click', async () => {
    el.signout.disabled = true;
    try {
      await api('POST', '/api/auth/logout');
      signedOut('Signed out: this device\'s token was revoked.');
    } catch (e) {
      report(e);
    } finally {
      el.signout.disabled = false;
    }
  });
  if (session.supported) {
    show(el.lockRow, true);
    el.lock.addEventListener('change', async () => {
      el.lock.checked = await session.keepAlive(el.lock.checked);
    });
  }
  document.addEventListener('visibilitychange', tick);
}

async function main(): Promise<void> {
  wire();
  try {
    me = await api<WhoAmI>('GET', '/api/auth/whoami');
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 401) {
      signedOut('This browser is not paired.');
      el.signedOutWhy.textContent = 'To use it as a remote, open an invite link on this device: on the computer running mediagate, run mediagate invite create --label phone --scope control --qr and scan the QR code.';
    } else {
      el.conn.dataset.state = 'waiting';
      el.conn.textContent = 'Cannot reach the server. Reload to try again.';
    }
    return;
  }
  el.who.textContent = `This device: “${me.label}” (${me.scope}).`;
  show(el.readonly, me.scope === 'read');
  show(el.remote, true);
  show(el.device, true);
  render();
  renderVolume();
  live.start();
  void loadPlayers();
  void new MediaBrowser({
    section: byId('browse'),
    crumbs: byId('crumbs'),
    list: byId('entries'),
    more: byId<HTMLButtonElement>('more'),
    canPlay: canControl(),
    player: target,
    report,
    played: (name) => toast(`Playing ${name}`),
  }).start();
}

void main();
