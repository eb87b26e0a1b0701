/**
 * Names and nonces that must not collide but need not be secret: temp files
 * beside a file being replaced, a lock holder's nonce. Unique by the process
 * id, the time and a per-process counter, with a little Math.random on top
 * (for a pid reused after a crash within the same millisecond). No
 * node:crypto: these are on the CLI's hot path, where loading it costs
 * ~3.5 ms of cold start. Anything secret (tokens, keys, invite codes, request
 * ids) keeps using node:crypto's randomBytes.
 */
let counter = 0;

/** Lower-case hex, unique within this host for as long as pids are: `<time><counter><random>`. */
export function uniqueHex(): string {
  counter = (counter + 1) >>> 0;
  return `${Date.now().toString(16)}${counter.toString(16).padStart(8, '0')}${Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0')}`;
}
