import type { Ctx } from '../context.js';

/** All of stdin as text (for values piped in: `printf %s "$PW" | mediagate config set-secret …`). */
export async function readAllStdin(ctx: Ctx, limitBytes = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.stdin) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += b.length;
    if (size > limitBytes) throw new Error(`more than ${limitBytes} bytes on stdin`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Drop one trailing newline (what `echo` and most editors add), nothing else. */
export function chompOnce(s: string): string {
  return s.replace(/\r?\n$/, '');
}
