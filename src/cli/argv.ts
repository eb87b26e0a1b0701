/**
 * Fix-ups of argv before anything parses it, shared by the fast path and
 * oclif (bin/ runs them first):
 *
 * - `mediagate --remote home pause` or `mediagate play --remote home pause`
 *   (and `mediagate --node kitchen pause`):
 *   a global `--remote NAME` (or `--remote=NAME`, `-r NAME`, `--node NAME`) written before
 *   or between the command words is moved after them, where both parsers
 *   look for a command's flags.
 * - `mediagate volume -5` and `mediagate play seek -10` take negative numbers
 *   as arguments, which every flag parser reads as an unknown short flag.
 *   Such arguments move behind a `--` so they are positional. Only these
 *   commands are touched.
 */
const NEGATIVE_NUMBER = /^-\d+(\.\d+)?(:\d{1,2}){0,2}$/;

/**
 * A `--remote NAME` / `--remote=NAME` / `-r NAME` / `--node NAME` written before or between
 * the command words (`mediagate --remote home pause`, `mediagate play -r home
 * pause`) moved behind them (before any `--`). Only when every word before it
 * is a bare word: after another flag it may be that flag's value.
 */
export function moveLeadingGlobal(argv: string[]): string[] {
  const at = argv.findIndex((a) => a.startsWith('-'));
  if (at < 0) return argv;
  const first = argv[at]!;
  let flag: string[];
  if (first.startsWith('--remote=') || first.startsWith('--node=')) flag = argv.slice(at, at + 1);
  else if ((first === '--remote' || first === '-r' || first === '--node') && argv.length >= at + 2 && !argv[at + 1]!.startsWith('-')) flag = argv.slice(at, at + 2);
  else return argv;
  const before = argv.slice(0, at);
  const rest = argv.slice(at + flag.length);
  // No command word after it: it is already behind the command (or there is none; oclif reports that).
  if (rest.length === 0 || rest[0]!.startsWith('-')) return argv;
  const words = [...before, ...rest];
  const dashes = words.indexOf('--');
  return dashes < 0 ? [...words, ...flag] : [...words.slice(0, dashes), ...flag, ...words.slice(dashes)];
}

export function normalizeArgv(input: string[]): string[] {
  const argv = moveLeadingGlobal(input);
  const words = argv.filter((a) => !a.startsWith('-'));
  const takesNegative = words[0] === 'volume' || (words[0] === 'play' && words[1] === 'seek');
  if (!takesNegative || argv.includes('--')) return argv;
  const negatives = argv.filter((a) => NEGATIVE_NUMBER.test(a));
  if (negatives.length === 0) return argv;
  return [...argv.filter((a) => !NEGATIVE_NUMBER.test(a)), '--', ...negatives];
}
