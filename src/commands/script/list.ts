import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag } from '../../cli/flags.js';
import { scriptList } from '../../cli/handlers/script.js';

export default class ScriptList extends BaseCommand {
  static override summary = 'List the scripts defined in config.';
  static override description = `Scripts are defined only by the owner, by hand, in config.json (no command or API creates or changes them):

  "scripts": {
    "lights": {
      "command": ["/usr/local/bin/hue", "scene", "{scene}"],
      "params": {"scene": {"pattern": "[a-z]{1,20}", "required": true}},
      "timeout": 5, "maxOutput": 4096, "scope": "control",
      "description": "Set a light scene", "env": {"HUE_BRIDGE": "10.0.0.2"}
    }
  }

command is an argv array run without a shell; an element that is exactly {param} is replaced by that parameter's value as one whole argument (a placeholder inside other text is refused). Each parameter has a pattern the whole value must match (anchored for you) and may be required. timeout is in seconds (default 10, at most 300); after it the script and everything it started are killed. maxOutput caps stdout and stderr, each (default 65536 bytes). scope is what an API token needs to run it (read, control or admin; default admin). The script gets only PATH, HOME, LANG and its own env. callbacks.on.{play,pause,stop,trackChange,volumeChange} = NAME runs a script on player events while \`mediagate serve\` runs, with the event as JSON on stdin.

--json prints [{name, description, scope, timeout, params: [{name, pattern, required}]}]; never the command or env values.`;
  static override examples = ['<%= config.bin %> script list', '<%= config.bin %> script list --json'];
  static override flags = { json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(ScriptList);
    await this.handle(flags.json, (ctx) => scriptList(ctx));
  }
}
