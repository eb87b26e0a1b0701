/** What bin/ loads first: the argv fix-up and the fast path, bundled into one file by the build. */
export { normalizeArgv } from './argv.js';
export { commandLine, fastCommand, runFast } from './fast.js';
