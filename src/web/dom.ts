/** Small DOM helpers: no innerHTML anywhere (Trusted Types are enforced by the page CSP). */

/** The element with this id; a missing one is a build error, not a runtime surprise. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`missing #${id}`);
  return el as T;
}

type Child = Node | string | null | undefined | false;

/** createElement with attributes and children (text children become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false) continue;
    el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function show(el: HTMLElement, visible: boolean): void {
  el.hidden = !visible;
}

/** 75 → "1:15", 3700 → "1:01:40". */
export function clock(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–:––';
  const s = Math.floor(seconds);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** "1 minute 15 seconds", for screen readers (aria-valuetext). */
export function spokenClock(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return 'unknown';
  const s = Math.max(0, Math.floor(seconds));
  const parts: string[] = [];
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  if (hh) parts.push(`${hh} hour${hh === 1 ? '' : 's'}`);
  if (mm) parts.push(`${mm} minute${mm === 1 ? '' : 's'}`);
  if (ss || parts.length === 0) parts.push(`${ss} second${ss === 1 ? '' : 's'}`);
  return parts.join(' ');
}
