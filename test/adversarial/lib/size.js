// How big each part of the adversarial suite runs. Plain `npm test` (CI)
// runs the CI size; `npm run test:adversarial` sets MEDIAGATE_ADVERSARIAL=full.
// Individual figures can be overridden for a local experiment, e.g.
// MEDIAGATE_ADV_SOAK_S=30 MEDIAGATE_ADV_FUZZ=5000.
export const FULL = process.env.MEDIAGATE_ADVERSARIAL === 'full';

function num(name, ci, full) {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : FULL ? full : ci;
}

export const SIZE = Object.freeze({
  mode: FULL ? 'full' : 'ci',
  /** Generated HTTP requests against one serve (raw sockets). */
  fuzzRequests: num('MEDIAGATE_ADV_FUZZ', 20_000, 40_000),
  /** Requests sent at once while fuzzing. */
  fuzzConcurrency: num('MEDIAGATE_ADV_FUZZ_CONCURRENCY', 24, 24),
  /** 10 MB bodies (each one is 10 MB on the wire). */
  hugeBodies: num('MEDIAGATE_ADV_HUGE', 4, 12),
  /** WebSocket frames (generated messages) across all sockets. */
  wsFrames: num('MEDIAGATE_ADV_WS', 3_000, 12_000),
  /** Load soak length, seconds, and how often it samples the server. */
  soakSeconds: num('MEDIAGATE_ADV_SOAK_S', 75, 600),
  soakSampleSeconds: num('MEDIAGATE_ADV_SOAK_SAMPLE_S', 5, 10),
  /** kill -9 rounds per operation. */
  killRounds: num('MEDIAGATE_ADV_KILL_ROUNDS', 6, 25),
});

/** The fixed fast-check seed (printed by every part that uses it). */
export const SEED = Number(process.env.MEDIAGATE_ADV_SEED ?? 20260208);
