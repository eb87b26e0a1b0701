import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag } from '../../cli/flags.js';
import { scriptRun } from '../../cli/handlers/script.js';

export default class ScriptRun extends BaseCommand {
  static override summary = 'Run a script defined in config.';
  static override description = `Runs script NAME (see script list) with --param NAME=VALUE for each parameter. Every value is checked against its pattern before anything runs: an unknown parameter, a missing required one or a value that does not match is exit 2 naming the parameter. The script runs without a shell, each value as one whole argument, with a minimal environment and its own time limit; at most one run of a script at a time.

Its stdout goes to stdout and its stderr to stderr (cut at its maxOutput, with a note). Exit 0 when the script exited 0, else 1 (also when it ran out of time, after "timeout" seconds: above 0, at most 300). Ctrl-C (SIGINT), SIGTERM or SIGHUP stops the script and everything it started, and exits 130, 143 or 129. Every run, refused run (a malformed --param too) and interrupted run is written to the audit log with the parameters.

A value is at most 1024 characters. Write patterns without nested or overlapping repetition such as (a+)+, (a|a)* or (.*,)*: the whole value is matched against the pattern before anything runs, and such a pattern can take exponential time on a crafted value. The test is cut off after 50 ms and the value refused (exit 2), so a server is held at most that long, but a good value may be refused too. Prefer plain character classes with a bound, e.g. [a-z0-9-]{1,32}.

--json prints {script, exitCode, signal, timedOut, truncated, stdout, stderr, durationMs} instead of the output; the exit code is the same.`;
  static override examples = [
    '<%= config.bin %> script run lights --param scene=evening',
    '<%= config.bin %> script run backup-playlists --json',
  ];
  static override args = { name: Args.string({ description: 'the script to run', required: true }) };
  static override flags = {
    param: Flags.string({ char: 'P', description: 'a parameter as NAME=VALUE (repeat --param for several)', multiple: true, multipleNonGreedy: true, helpValue: 'NAME=VALUE' }),
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(ScriptRun);
    await this.handle(flags.json, (ctx) => scriptRun(ctx, args.name, flags.param ?? []));
  }
}
