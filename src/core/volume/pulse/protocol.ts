/**
 * Numbers of PulseAudio's native protocol that this client uses, as
 * PulseAudio's pulsecore/native-common.h, pulse/def.h and pulsecore/tagstruct.h
 * define them (pipewire-pulse speaks the same protocol).
 */

/** The protocol version we announce; the server answers with its own and the lower one applies. */
export const PROTOCOL_VERSION = 35;
/** The low 16 bits of the version word are the version; the high bits carry SHM/memfd flags (we set none). */
export const VERSION_MASK = 0x0000ffff;
/** The oldest server whose replies we can read (sink info with base volume arrived in 15). */
export const MIN_SERVER_VERSION = 15;

export const COOKIE_LENGTH = 256;
/** Channel of a control packet in the frame descriptor (audio data would name a stream). */
export const CONTROL_CHANNEL = 0xffffffff;
/** Index meaning "none": a command addressed by name sends it with the name. */
export const INVALID_INDEX = 0xffffffff;

export const Command = {
  ERROR: 0,
  TIMEOUT: 1,
  REPLY: 2,
  AUTH: 8,
  SET_CLIENT_NAME: 9,
  GET_SERVER_INFO: 20,
  GET_SINK_INFO: 21,
  SUBSCRIBE: 35,
  SET_SINK_VOLUME: 36,
  SET_SINK_MUTE: 39,
  SUBSCRIBE_EVENT: 66,
} as const;

export const commandName = (c: number): string =>
  Object.entries(Command).find(([, v]) => v === c)?.[0] ?? `command ${c}`;

/** Value tags of a tagstruct (each value on the wire starts with one). */
export const Tag = {
  STRING: 0x74, // 't'
  STRING_NULL: 0x4e, // 'N'
  U32: 0x4c, // 'L'
  U8: 0x42, // 'B'
  U64: 0x52, // 'R'
  S64: 0x72, // 'r'
  SAMPLE_SPEC: 0x61, // 'a'
  ARBITRARY: 0x78, // 'x'
  BOOLEAN_TRUE: 0x31, // '1'
  BOOLEAN_FALSE: 0x30, // '0'
  TIMEVAL: 0x54, // 'T'
  USEC: 0x55, // 'U'
  CHANNEL_MAP: 0x6d, // 'm'
  CVOLUME: 0x76, // 'v'
  PROPLIST: 0x50, // 'P'
  VOLUME: 0x56, // 'V'
  FORMAT_INFO: 0x66, // 'f'
} as const;

/** PA_CHANNELS_MAX: more channels than this in a channel map or volume is malformed. */
export const CHANNELS_MAX = 32;

/** Subscription masks (what to hear about) and event facilities (what an event is about). */
export const SubscriptionMask = { SINK: 0x0001, SERVER: 0x0080 } as const;
export const EventFacility = { SINK: 0x00, SERVER: 0x07, MASK: 0x0f } as const;
export const EventType = { NEW: 0x00, CHANGE: 0x10, REMOVE: 0x20, MASK: 0x30 } as const;

/** pa_error_code names, for messages (the server answers ERROR with one of these numbers). */
const ERRORS = [
  'ok', 'access denied', 'unknown command', 'invalid argument', 'entity exists', 'no such entity',
  'connection refused', 'protocol error', 'timeout', 'no authentication key', 'internal error',
  'connection terminated', 'entity killed', 'invalid server', 'module initialisation failed',
  'bad state', 'no data', 'incompatible protocol version', 'too large', 'not supported',
  'unknown error code', 'no such extension', 'obsolete functionality', 'missing implementation',
  'client forked', 'input/output error', 'device or resource busy',
];
export const ERR_ACCESS = 1;
export const ERR_NOENTITY = 5;
export const errorName = (code: number): string => ERRORS[code] ?? `error ${code}`;
