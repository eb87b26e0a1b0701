/**
 * MPD's song tags as MPRIS metadata: the xesam/mpris name where one exists
 * (`Title` → `xesam:title`, `Artist` → `xesam:artist` as a list, the length
 * → `mpris:length` in microseconds as MPRIS players give it), every other
 * field kept under `mpd:` with MPD's own name and text (`mpd:Format`,
 * `mpd:Last-Modified`). Also the queue (`playlistinfo`). Pure: no I/O.
 */
import type { MpdPairs } from './mpd-protocol.js';
import { queueEntryOf } from './metadata.js';
import type { Metadata, MetadataValue, QueueEntry } from './types.js';

type Kind = 'text' | 'list' | 'int';

/** MPD tag → MPRIS name and how its values read (xesam lists are lists even with one value). */
const MAPPED: Record<string, [string, Kind]> = {
  Title: ['xesam:title', 'text'],
  Artist: ['xesam:artist', 'list'],
  AlbumArtist: ['xesam:albumArtist', 'list'],
  Album: ['xesam:album', 'text'],
  Track: ['xesam:trackNumber', 'int'],
  Disc: ['xesam:discNumber', 'int'],
  Genre: ['xesam:genre', 'list'],
  Composer: ['xesam:composer', 'list'],
  Comment: ['xesam:comment', 'list'],
  Date: ['xesam:contentCreated', 'text'],
  MUSICBRAINZ_TRACKID: ['xesam:musicBrainzTrackID', 'list'],
  MUSICBRAINZ_ALBUMID: ['xesam:musicBrainzAlbumID', 'list'],
  MUSICBRAINZ_ARTISTID: ['xesam:musicBrainzArtistID', 'list'],
  MUSICBRAINZ_ALBUMARTISTID: ['xesam:musicBrainzAlbumArtistID', 'list'],
};

/** Fields that become mpris:length, mpris:trackid or xesam:url rather than mpd:*. */
const LENGTH_FIELDS = new Set(['duration', 'Time']);

/** The object path MPRIS bridges for MPD give a song (mpris:trackid must be an object path). */
export function mpdTrackId(songId: string): string {
  return `/org/mpris/MediaPlayer2/Track/${/^\d+$/.test(songId) ? songId : '0'}`;
}

function collect(pairs: MpdPairs): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const [k, v] of pairs) {
    const list = fields.get(k);
    if (list) list.push(v); else fields.set(k, [v]);
  }
  return fields;
}

function valueOf(kind: Kind, values: string[]): MetadataValue | undefined {
  const present = values.filter((v) => v !== '');
  if (present.length === 0) return undefined;
  if (kind === 'list') return present;
  if (kind === 'int') {
    const n = Number.parseInt(present[0]!, 10); // "3/12" → 3
    return Number.isFinite(n) ? n : undefined;
  }
  return present.join(', ');
}

/** A song's location as a URI: a stream URL as it is, an absolute path as file://; a path in MPD's database has none (see mpd:file). */
function urlOf(file: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(file)) return file;
  if (file.startsWith('/')) return `file://${file.split('/').map(encodeURIComponent).join('/')}`;
  return undefined;
}

/** The metadata of one song (its `currentsong` / `playlistinfo` fields); {} when there is no song. */
export function mpdMetadata(song: MpdPairs): Metadata {
  const fields = collect(song);
  const file = fields.get('file')?.[0];
  if (file === undefined) return {};
  const meta: Metadata = {};
  const id = fields.get('Id')?.[0];
  if (id !== undefined) meta['mpris:trackid'] = mpdTrackId(id);
  const seconds = Number(fields.get('duration')?.[0] ?? fields.get('Time')?.[0]);
  if (Number.isFinite(seconds) && seconds > 0) meta['mpris:length'] = Math.round(seconds * 1e6);
  const url = urlOf(file);
  if (url !== undefined) meta['xesam:url'] = url;
  for (const [key, values] of fields) {
    const mapped = MAPPED[key];
    if (mapped) {
      const v = valueOf(mapped[1], values);
      if (v !== undefined) meta[mapped[0]] = v;
    } else if (!LENGTH_FIELDS.has(key)) {
      meta[`mpd:${key}`] = values.length === 1 ? values[0]! : values;
    }
  }
  return meta;
}

/** `playlistinfo` (one block of fields per song, each starting with `file`) → the songs' fields. */
export function splitSongs(pairs: MpdPairs): MpdPairs[] {
  const songs: MpdPairs[] = [];
  for (const pair of pairs) {
    if (pair[0] === 'file' || songs.length === 0) songs.push([]);
    songs[songs.length - 1]!.push(pair);
  }
  return songs;
}

/** The queue from `playlistinfo`; `currentSongId` is status `songid` (undefined when nothing is current). */
export function mpdQueue(playlistinfo: MpdPairs, currentSongId: string | undefined): QueueEntry[] {
  return splitSongs(playlistinfo).map((song, i) => {
    const fields = collect(song);
    const id = fields.get('Id')?.[0] ?? null;
    const pos = Number(fields.get('Pos')?.[0]);
    const meta = mpdMetadata(song);
    const entry = queueEntryOf(Number.isInteger(pos) ? pos : i, meta, id !== null && id === currentSongId, id);
    // Songs without a Title tag show as MPD shows them: the stream name, else the file name.
    entry.title ??= fields.get('Name')?.[0] ?? fileTitle(fields.get('file')?.[0]);
    entry.uri ??= fields.get('file')?.[0] ?? null;
    return entry;
  });
}

/** What a song without a Title tag is called: a stream URL as it is, else the file name. */
export function fileTitle(file: string | undefined): string | null {
  if (!file) return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) return file; // a stream URL
  const base = file.slice(file.lastIndexOf('/') + 1);
  return base || file;
}
