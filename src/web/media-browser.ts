/**
 * The media-folder browser: folders (GET /api/media/browse), their
 * directories page by page, and "play this file" (POST /api/media/play,
 * control scope). Paths are the relative ones the API lists; the server
 * confines them to the folder.
 */
import { api, type Entry, type Folder, type Listing } from './api.js';
import { h, show } from './dom.js';

const PAGE = 100;

export interface BrowserDeps {
  section: HTMLElement;
  crumbs: HTMLElement;
  list: HTMLElement;
  more: HTMLButtonElement;
  canPlay: boolean;
  player(): string | undefined;
  report(e: unknown): void;
  played(name: string): void;
}

export class MediaBrowser {
  private folder: string | null = null;
  private path = '';
  private next: number | null = null;

  constructor(private readonly d: BrowserDeps) {
    d.more.addEventListener('click', () => { if (this.folder !== null && this.next !== null) void this.open(this.folder, this.path, this.next); });
  }

  /** Show the folders; hides the whole section when there are none. */
  async start(): Promise<void> {
    let folders: Folder[];
    try {
      ({ folders } = await api<{ folders: Folder[] }>('GET', '/api/media/browse'));
    } catch {
      show(this.d.section, false);
      return;
    }
    if (folders.length === 0) { show(this.d.section, false); return; }
    show(this.d.section, true);
    this.showFolders(folders);
  }

  private showFolders(folders: Folder[]): void {
    this.folder = null;
    this.path = '';
    this.next = null;
    this.d.crumbs.replaceChildren(h('span', {}, 'Folders'));
    this.d.list.replaceChildren(...folders.map((f) => h('li', {},
      h('button', { type: 'button', class: 'entry dir', disabled: !f.available, 'aria-label': `Open folder ${f.name}${f.available ? '' : ' (unavailable)'}` }, f.name))));
    this.d.list.querySelectorAll<HTMLButtonElement>('button.entry').forEach((b, i) => b.addEventListener('click', () => void this.open(folders[i]!.name, '')));
    show(this.d.more, false);
  }

  private crumbs(folder: string, path: string): void {
    const items: Node[] = [];
    const top = h('button', { type: 'button', class: 'crumb' }, 'Folders');
    top.addEventListener('click', () => void this.start());
    items.push(top);
    const parts = path === '' ? [] : path.split('/');
    const trail: Array<{ label: string; path: string }> = [{ label: folder, path: '' }];
    parts.forEach((p, i) => trail.push({ label: decodeURIComponentSafe(p), path: parts.slice(0, i + 1).join('/') }));
    trail.forEach((t, i) => {
      items.push(h('span', { 'aria-hidden': 'true' }, ' / '));
      if (i === trail.length - 1) {
        items.push(h('span', { 'aria-current': 'location' }, t.label));
      } else {
        const b = h('button', { type: 'button', class: 'crumb' }, t.label);
        b.addEventListener('click', () => void this.open(folder, t.path));
        items.push(b);
      }
    });
    this.d.crumbs.replaceChildren(...items);
  }

  async open(folder: string, path: string, offset = 0): Promise<void> {
    let page: Listing;
    try {
      const q = new URLSearchParams({ folder, path, offset: String(offset), limit: String(PAGE) });
      page = await api<Listing>('GET', `/api/media/browse?${q}`);
    } catch (e) {
      this.d.report(e);
      return;
    }
    this.folder = folder;
    this.path = page.path;
    this.next = page.nextOffset;
    this.crumbs(folder, page.path);
    const rows = page.entries.map((e) => this.row(folder, e));
    if (offset === 0) this.d.list.replaceChildren(...rows);
    else this.d.list.append(...rows);
    if (offset === 0 && rows.length === 0) this.d.list.replaceChildren(h('li', { class: 'empty' }, 'This folder is empty.'));
    show(this.d.more, page.nextOffset !== null);
  }

  private row(folder: string, e: Entry): HTMLElement {
    if (e.type === 'dir') {
      const b = h('button', { type: 'button', class: 'entry dir', 'aria-label': `Open folder ${e.name}` }, e.name);
      b.addEventListener('click', () => void this.open(folder, e.path));
      return h('li', {}, b);
    }
    if (!e.playable) return h('li', { class: 'entry other' }, e.name);
    const b = h('button', { type: 'button', class: 'entry file', disabled: !this.d.canPlay, 'aria-label': `Play ${e.name}` }, e.name);
    b.addEventListener('click', async () => {
      try {
        const player = this.d.player();
        await api('POST', '/api/media/play', { folder, path: e.path, ...(player ? { player } : {}) });
        this.d.played(e.name);
      } catch (err) {
        this.d.report(err);
      }
    });
    return h('li', {}, b);
  }
}

function decodeURIComponentSafe(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}
