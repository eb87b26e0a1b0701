/**
 * Fix-ups of argv before anything parses it, shared by the fast path and
 * oclif (bin/ runs them first):
 *
 * - `mediagate --remote home pause`: a global `--remote NAME` (or
 *   `--remote=NAME`, `-r NAME`) written before the command is moved after
 *   it, where both parsers look for a command's flags.
 * - `mediagate volume -5` and `mediagate play seek -10` take negative numbers
 *   as arguments, which every flag parser reads as an unknown short flag.
 *   Such arguments move behind a `--` so they are positional. Only these
 *   commands are touched.
 */
const NEGATIVE_NUMBER = /^-\d+(\.\d+)?(:\d{1,2}){0,2}$/;

/** A leading `--remote NAME` / `--remote=NAME` / `-r NAME` moved behind the command words (before any `--`). */
export function moveLeadingRemote(argv: string[]): string[] {
  let flag: string[];
  if (argv[0]?.startsWith('--remote=')) flag = argv.slice(0, 1);
  else if ((argv[0] === '--remote' || argv[0] === '-r') && argv.length >= 2 && !argv[1]!.startsWith('-')) flag = argv.slice(0, 2);
  else return argv;
  const rest = argv.slice(flag.length);
  // Nothing after it but flags: no command to move it behind (oclif reports what is wrong).
  if (rest.length === 0 || rest[0]!.startsWith('-')) return argv;
  const dashes = rest.indexOf('--');
  return dashes < 0 ? [...rest, ...flag] : [...rest.slice(0, dashes), ...flag, ...rest.slice(dashes)];
}

export function normalizeArgv(input: string[]): string[] {
  const argv = moveLeadingRemote(input);
  const words = argv.filter((a) => !a.startsWith('-'));
  const takesNegative = words[0] === 'volume' || (words[0] === 'play' && words[1] === 'seek');
  if (!takesNegative || argv.includes('--')) return argv;
  const negatives = argv.filter((a) => NEGATIVE_NUMBER.test(a));
  if (negatives.length === 0) return argv;
  return [...argv.filter((a) => !NEGATIVE_NUMBER.test(a)), '--', ...negatives];
}
