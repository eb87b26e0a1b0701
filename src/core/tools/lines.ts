import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a byte stream into lines (LF or CRLF), decoding UTF-8 across chunk
 * boundaries: a line cut in the middle, or a character cut between its
 * bytes, comes out whole. `maxLine` bounds what one unfinished line may hold
 * (a child that prints without newlines cannot grow memory without limit):
 * past it the partial line is dropped and `onOverflow` is told.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private buf = '';

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLine = 16 * 1024 * 1024,
    private readonly onOverflow: () => void = () => {},
  ) {}

  push(chunk: Buffer | string): void {
    this.buf += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).replace(/\r$/, '');
      this.buf = this.buf.slice(i + 1);
      this.onLine(line);
    }
    if (this.buf.length > this.maxLine) {
      this.buf = '';
      this.onOverflow();
    }
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): void {
    this.buf += this.decoder.end();
    const rest = this.buf.replace(/\r$/, '');
    this.buf = '';
    if (rest !== '') this.onLine(rest);
  }
}
