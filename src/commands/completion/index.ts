import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { completionPrint } from '../../cli/handlers/completion.js';

export default class Completion extends BaseCommand {
  static override summary = 'Print a shell completion script (bash, zsh or fish).';
  static override description = `Completes commands, flags and their fixed values, config keys (config get/set/unset), remote profile names (--remote, remote use/remove), script names, player names from the live bus and MPD (--player, --ignore-player) and node names from the MQTT broker (--node). The script hands the words typed so far to a hidden fast subcommand of mediagate, which answers without loading the command framework; live names are looked up only for the word that needs them, and a lookup that takes longer than 0.8 s (MEDIAGATE_COMPLETION_TIMEOUT_MS) is left out.

bash: source <(mediagate completion bash), or save it as ~/.local/share/bash-completion/completions/mediagate. zsh: source <(mediagate completion zsh), or save it as _mediagate in a directory of $fpath. fish: mediagate completion fish > ~/.config/fish/completions/mediagate.fish.`;
  static override examples = ['source <(<%= config.bin %> completion bash)', '<%= config.bin %> completion zsh > "${fpath[1]}/_mediagate"', '<%= config.bin %> completion fish > ~/.config/fish/completions/mediagate.fish'];
  static override args = { shell: Args.string({ description: 'the shell the script is for', required: true, options: ['bash', 'zsh', 'fish'] }) };

  async run(): Promise<void> {
    const { args } = await this.parse(Completion);
    await this.handle(false, (ctx) => completionPrint(ctx, args.shell));
  }
}
