/**
 * `mediagate volume -5` and `mediagate play seek -10` take negative numbers
 * as arguments, which every flag parser reads as an unknown short flag. Move
 * such arguments behind a `--` so both the fast path and oclif see them as
 * positional. Only these commands are touched; nothing else changes.
 */
const NEGATIVE_NUMBER = /^-\d+(\.\d+)?(:\d{1,2}){0,2}$/;

export function normalizeArgv(argv: string[]): string[] {
  const words = argv.filter((a) => !a.startsWith('-'));
  const takesNegative = words[0] === 'volume' || (words[0] === 'play' && words[1] === 'seek');
  if (!takesNegative || argv.includes('--')) return argv;
  const negatives = argv.filter((a) => NEGATIVE_NUMBER.test(a));
  if (negatives.length === 0) return argv;
  return [...argv.filter((a) => !NEGATIVE_NUMBER.test(a)), '--', ...negatives];
}
