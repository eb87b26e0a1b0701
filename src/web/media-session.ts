/**
 * The browser's Media Session: what the lock screen, the notification and
 * headset buttons show and do. The actions drive the server's player; the
 * metadata and position mirror it.
 *
 * A browser shows these controls only while the page itself plays audio,
 * so "Lock-screen controls" (off by default: it takes the phone's audio
 * focus) loops a silent clip from this server; the player keeps playing
 * wherever it plays.
 */
import type { Status } from './api.js';

export interface SessionActions {
  play(): void;
  pause(): void;
  next(): void;
  previous(): void;
  seekTo(seconds: number): void;
}

export class MediaSessionBridge {
  private readonly ms: MediaSession | null = 'mediaSession' in navigator ? navigator.mediaSession : null;
  private lastKey = '';

  constructor(actions: SessionActions, private readonly silence: HTMLAudioElement) {
    const ms = this.ms;
    if (!ms) return;
    const set = (action: MediaSessionAction, fn: MediaSessionActionHandler): void => {
      try { ms.setActionHandler(action, fn); } catch { /* this browser lacks that action */ }
    };
    set('play', () => actions.play());
    set('pause', () => actions.pause());
    set('stop', () => actions.pause());
    set('nexttrack', () => actions.next());
    set('previoustrack', () => actions.previous());
    set('seekto', (d) => { if (typeof d.seekTime === 'number') actions.seekTo(d.seekTime); });
  }

  get supported(): boolean {
    return this.ms !== null;
  }

  /** Start or stop the silent loop that keeps the lock-screen controls up (call from a user gesture). */
  async keepAlive(on: boolean): Promise<boolean> {
    if (!on) { this.silence.pause(); return false; }
    try {
      await this.silence.play();
      return true;
    } catch {
      return false;
    }
  }

  update(s: Status | null, position: number | null): void {
    const ms = this.ms;
    if (!ms) return;
    ms.playbackState = s === null ? 'none' : s.status === 'playing' ? 'playing' : 'paused';
    if (s === null) { ms.metadata = null; this.lastKey = ''; return; }
    const key = `${s.player}|${s.title}|${s.artist}|${s.album}|${s.artwork ?? ''}`;
    if (key !== this.lastKey) {
      this.lastKey = key;
      ms.metadata = new MediaMetadata({
        title: s.title ?? 'Nothing playing',
        artist: s.artist ?? '',
        album: s.album ?? '',
        ...(s.artwork ? { artwork: [{ src: new URL(s.artwork, location.href).href }] } : {}),
      });
    }
    if (s.duration !== null && s.duration > 0 && position !== null) {
      try {
        ms.setPositionState({ duration: s.duration, position: Math.min(position, s.duration), playbackRate: 1 });
      } catch { /* inconsistent values: leave the last good one */ }
    }
  }
}
