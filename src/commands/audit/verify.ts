import { BaseCommand } from '../../cli/base-command.js';
import { jsonFlag, remoteFlag } from '../../cli/flags.js';
import { auditVerify } from '../../cli/handlers/audit.js';

export default class AuditVerify extends BaseCommand {
  static override summary = 'Check that the audit log is complete and unaltered.';
  static override description = `Walks every audit file in order and checks the hash chain and the head record. Exit 0 only when the whole chain holds; otherwise exit 1, naming the first bad line (file:line and seq) and the kind of damage: edited, deleted, reordered, inserted, truncated (lines cut from the end, or a torn last line) or malformed.

--json prints {ok, count, files, lastSeq, lastHash, notes} or {ok:false, count, files, firstBadLine:{file, line, seq}, kind, reason}. notes counts events the log wrote about itself (dropped events under a flood, repairs after a crash), which deserve a look: mediagate audit --actor system:audit. The chain has no secret key: keeping lastHash somewhere else lets you check later that nobody rewrote the whole log.`;
  static override examples = ['<%= config.bin %> audit verify', '<%= config.bin %> audit verify --json'];
  static override flags = { remote: remoteFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(AuditVerify);
    await this.handle(flags.json, (ctx) => auditVerify(ctx), flags.remote);
  }
}
