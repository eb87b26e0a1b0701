/**
 * What the broker should hold, retained, for this node — and the one place
 * that sends it. A topic is published only when its payload changes
 * (`set`); unchanged state is never sent again. While the connection is
 * down nothing is queued: only the latest wanted payload of each topic is
 * kept, and after a reconnect (or Home Assistant's birth message)
 * `republishAll` sends each once. A topic no longer wanted is cleared with
 * an empty retained message (`clear`), also after a reconnect if it could
 * not be sent while the connection was down.
 */
export type Payload = string | Buffer;
export type Send = (topic: string, payload: Payload) => void;

function same(a: Payload, b: Payload): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  return Buffer.from(a).equals(Buffer.from(b));
}

export class RetainedTopics {
  private readonly wanted = new Map<string, Payload>();
  private readonly clears = new Set<string>();
  /** Messages sent (retained payloads and clears), for the bridge's status. */
  sent = 0;

  constructor(private readonly send: Send, private readonly connected: () => boolean) {}

  /** Want `payload` on `topic`; sent now (when connected) if it differs from what was wanted. */
  set(topic: string, payload: Payload): boolean {
    const prev = this.wanted.get(topic);
    this.clears.delete(topic);
    if (prev !== undefined && same(prev, payload)) return false;
    this.wanted.set(topic, payload);
    if (this.connected()) this.out(topic, payload);
    return true;
  }

  get(topic: string): Payload | undefined {
    return this.wanted.get(topic);
  }

  /** No longer want `topic`: an empty retained message removes it from the broker. */
  clear(topic: string, force = false): void {
    if (!this.wanted.delete(topic) && !force) return;
    if (this.connected()) this.out(topic, '');
    else this.clears.add(topic);
  }

  /** Topics wanted now. */
  topics(): string[] {
    return [...this.wanted.keys()];
  }

  /** Send everything once more (after a reconnect, or when Home Assistant starts). */
  republishAll(): void {
    if (!this.connected()) return;
    for (const t of this.clears) this.out(t, '');
    this.clears.clear();
    for (const [t, p] of this.wanted) this.out(t, p);
  }

  private out(topic: string, payload: Payload): void {
    this.sent++;
    this.send(topic, payload);
  }
}
