/**
 * /connect#code=XXXX-XXXX-XXXX-XXXX: pair this browser.
 *
 * The code comes from the fragment, which the browser never sends to the
 * server; it is removed from the address bar at once (so it stays out of
 * history and bookmarks). The person confirms a device name, then the page
 * redeems the code and exchanges the pairing token in cookie mode: the
 * server sets the device token as an HttpOnly cookie, which this script never
 * sees. Then it goes to the remote.
 */
import { api, ApiFailure, here, waitText, type WhoAmI } from './api.js';
import { byId, show } from './dom.js';

const form = byId<HTMLFormElement>('pair');
const codeRow = byId('code-row');
const codeInput = byId<HTMLInputElement>('code');
const nameInput = byId<HTMLInputElement>('device');
const submit = byId<HTMLButtonElement>('submit');
const problem = byId('problem');
const already = byId('already');
const progress = byId('progress');

function codeFromFragment(): string {
  const params = new URLSearchParams(location.hash.slice(1));
  const code = params.get('code') ?? '';
  if (location.hash) history.replaceState(null, '', location.pathname);
  return code.trim().slice(0, 64);
}

/** "Chrome on Android": a name the person can keep or change. */
export function guessDeviceName(ua: string): string {
  const platform = /iPhone/.test(ua) ? 'iPhone' : /iPad/.test(ua) ? 'iPad' : /Android/.test(ua) ? 'Android'
    : /Mac OS X|Macintosh/.test(ua) ? 'Mac' : /Windows/.test(ua) ? 'Windows' : /CrOS/.test(ua) ? 'ChromeOS' : /Linux/.test(ua) ? 'Linux' : 'a device';
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : /SamsungBrowser\//.test(ua) ? 'Samsung Internet'
    : /Chrome\/|Chromium\/|CriOS\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  return `${browser} on ${platform}`;
}

const REASONS: Record<string, string> = {
  'invite.malformed': 'That is not an invite code. A code has 16 letters and digits, like ABCD-EFGH-JKMN-PQRS.',
  'invite.unknown': 'This invite code is not known to the server. Check it, or ask the owner of the server for a new invite.',
  'invite.expired': 'This invite has expired. Ask the owner of the server for a new one (mediagate invite create).',
  'invite.used_up': 'This invite has already been used as many times as it allows. Ask the owner of the server for a new one.',
  'invite.revoked': 'This invite was withdrawn by the owner of the server. Ask them for a new one.',
  'invite.superseded': 'A newer invite replaced this one. Use the newest link or QR code.',
  'pairing.expired': 'Pairing took too long. Open the invite link again.',
  'pairing.used': 'This pairing was already completed. Open the invite link again to pair once more.',
  'auth.csrf': 'This page must be opened from the server itself. Open the invite link again.',
};

function explain(e: unknown): string {
  if (!(e instanceof ApiFailure)) return 'Something went wrong. Try again.';
  if (e.code === 'auth.locked' || e.code === 'rate_limit.exceeded') return `Too many attempts from this network. ${waitText(e.retryAfter)}`;
  if (e.code === 'usage.invalid_label') return `That device name cannot be used: ${e.message}.`;
  if (e.code === 'network') return 'Cannot reach the server. Check that this device is on the same network and try again.';
  return REASONS[e.code] ?? (e.code.startsWith('pairing.') ? REASONS['pairing.expired']! : `The server refused: ${e.message}.`);
}

function fail(message: string, askCode: boolean): void {
  problem.textContent = message;
  show(problem, true);
  show(progress, false);
  submit.disabled = false;
  if (askCode) {
    show(codeRow, true);
    codeInput.focus();
  }
}

let current: WhoAmI | null = null;

async function pair(code: string, device: string): Promise<void> {
  show(problem, false);
  progress.textContent = 'Pairing…';
  show(progress, true);
  submit.disabled = true;
  let pairingToken: string;
  try {
    ({ pairingToken } = await api<{ pairingToken: string }>('POST', '/api/auth/redeem', { code }));
  } catch (e) {
    const codeProblem = e instanceof ApiFailure && e.code.startsWith('invite.');
    fail(explain(e), codeProblem);
    return;
  }
  try {
    // Paired before, under another name: give up that token rather than leave it behind.
    if (current) await api('POST', '/api/auth/logout').catch(() => undefined);
    await api('POST', '/api/auth/exchange', { pairingToken, device, cookie: true });
  } catch (e) {
    fail(explain(e), false);
    return;
  }
  progress.textContent = 'Paired. Opening the remote…';
  location.replace(here('/'));
}

async function main(): Promise<void> {
  const code = codeFromFragment();
  codeInput.value = code;
  show(codeRow, code === '');
  nameInput.value = guessDeviceName(navigator.userAgent);
  try {
    current = await api<WhoAmI>('GET', '/api/auth/whoami');
    byId('already-name').textContent = current.label;
    show(already, true);
  } catch { /* not paired yet: the usual case */ }
  // Another invite link opened in this tab is only a fragment change: take its code.
  addEventListener('hashchange', () => {
    const next = codeFromFragment();
    if (!next) return;
    codeInput.value = next;
    show(codeRow, false);
    show(problem, false);
    show(progress, false);
    submit.disabled = false;
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const c = codeInput.value.trim();
    const d = nameInput.value.trim();
    if (!c) { fail('Enter the invite code shown by the server.', true); return; }
    if (!d) { fail('Give this device a name, so you can recognise it in the device list.', false); nameInput.focus(); return; }
    void pair(c, d);
  });
  show(form, true);
  nameInput.focus();
  nameInput.select();
}

void main();
