import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';

export default class CompletionWords extends BaseCommand {
  static override hidden = true;
  static override summary = 'Candidates for the word being completed (what the completion scripts call).';
  static override description = 'Reads the words after `mediagate` on stdin, one a line, the last being the one completed; prints the candidates, one a line, or @files.';
  static override flags = { shell: Flags.string({ description: 'format of the answer', options: ['bash', 'zsh', 'fish'], default: 'bash' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(CompletionWords);
    await this.runHot(flags);
  }
}
