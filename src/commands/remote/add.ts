import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag } from '../../cli/flags.js';
import { remoteAdd } from '../../cli/handlers/remote.js';
import { refuseTokenOnCommandLine } from '../../cli/handlers/secret.js';

export default class RemoteAdd extends BaseCommand {
  static override summary = 'Add a remote server profile for --remote (the token is read from a prompt or stdin).';
  static override description = `Stores URL and a token for the mediagate server NAME, so that any play, volume, token, invite or audit command can be sent there with --remote NAME (or MEDIAGATE_REMOTE=NAME, or by default after \`mediagate remote use NAME\`).

The token is never taken from the command line: it is asked for without echo on a terminal, or read from stdin (printf '%s' "$TOKEN" | mediagate remote add …). It is stored sealed, like every secret. Before storing, the token is checked with the server (GET /api/auth/whoami); --no-verify skips that.

Plain http:// to another machine is refused (the token would cross the network readable by anyone on the path) unless --allow-plain-http; loopback addresses are fine. For a server whose certificate comes from a private CA give --ca FILE (PEM). Pairing with an invite code stores a profile too: mediagate invite redeem CODE --server URL [--save NAME].

Exit 4 when the server refuses the token, 6 when it cannot be reached; nothing is stored then.`;
  static override examples = [
    "printf '%s' \"$TOKEN\" | <%= config.bin %> remote add living-room https://media.example.org",
    '<%= config.bin %> remote add pi http://127.0.0.1:8420',
    '<%= config.bin %> remote add lab https://lab.internal:8420 --ca ./lab-ca.pem --default',
  ];
  static override args = {
    name: Args.string({ description: 'profile name (letters, digits, _ and -); "local" is reserved for this machine', required: true }),
    url: Args.string({ description: 'URL of the server, e.g. https://media.example.org', required: true }),
  };
  static override flags = {
    ca: Flags.string({ description: 'CA certificate (PEM) the server\'s TLS certificate chains to', helpValue: 'FILE' }),
    verify: Flags.boolean({ description: 'check the token with the server before storing it', default: true, allowNo: true }),
    'allow-plain-http': Flags.boolean({ description: 'allow http:// to a host that is not this machine (the token crosses the network unencrypted)' }),
    force: Flags.boolean({ description: 'replace a profile of the same name' }),
    default: Flags.boolean({ description: 'also make it the default remote (as `remote use NAME`)' }),
    json: jsonFlag,
  };

  // Not strict: oclif's own refusal of an extra argument ("Unexpected argument:
  // <it>") would echo a token typed after the URL. Extra arguments are refused
  // below without repeating them.
  static override strict = false;

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(RemoteAdd);
    if (argv.length > 2) {
      await this.handle(flags.json, () => refuseTokenOnCommandLine(argv.length - 2));
      return;
    }
    await this.handle(flags.json, (ctx) => remoteAdd(ctx, {
      name: args.name, url: args.url, ca: flags.ca, verify: flags.verify, allowPlainHttp: flags['allow-plain-http'], force: flags.force, default: flags.default,
    }));
  }
}
