import { isUtf8 } from 'node:buffer';

/** One complete line as it sits in the file. */
export interface Line {
  /** Byte offset of the line's first byte. */
  start: number;
  /** Byte offset just past the line's newline (where reading resumes). */
  end: number;
  text: string;
  encoding: 'utf8' | 'base64';
  truncated: boolean;
  /** Length in bytes without the newline, before truncation. */
  length: number;
}

const NL = 0x0a;

/**
 * Splits a byte stream into lines without ever holding more than `maxLineBytes` of one line:
 * a longer line keeps its first `maxLineBytes` and is flagged; bytes that are not valid UTF-8
 * are kept exactly, as base64.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private kept = 0;
  private length = 0;
  private lineStart: number;

  constructor(private readonly maxLineBytes: number, startOffset: number) {
    this.lineStart = startOffset;
  }

  /** Bytes of an unfinished line seen so far. */
  get pendingBytes(): number { return this.length; }

  /** Offset where the unfinished line began. */
  get pendingStart(): number { return this.lineStart; }

  /** Feeds `chunk`, which starts at byte `offset` of the file; returns the lines it completed. */
  push(chunk: Buffer, offset: number): Line[] {
    const lines: Line[] = [];
    let from = 0;
    for (let nl = chunk.indexOf(NL, from); nl !== -1; nl = chunk.indexOf(NL, from)) {
      this.append(chunk.subarray(from, nl));
      lines.push(this.finish(offset + nl + 1));
      from = nl + 1;
    }
    if (from < chunk.length) this.append(chunk.subarray(from));
    return lines;
  }

  /** Emits the unfinished line as it is (the partial-line timeout ran out, or the file ended for good). */
  flushPartial(endOffset: number): Line | undefined {
    return this.length > 0 ? this.finish(endOffset) : undefined;
  }

  private append(bytes: Buffer): void {
    this.length += bytes.length;
    const room = this.maxLineBytes - this.kept;
    if (room <= 0 || bytes.length === 0) return;
    const part = bytes.length > room ? bytes.subarray(0, room) : bytes;
    // Copy: the caller reuses its read buffer.
    this.parts.push(Buffer.from(part));
    this.kept += part.length;
  }

  private finish(end: number): Line {
    let buf = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.kept);
    if (buf.length > 0 && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, buf.length - 1);
    const utf8 = isUtf8(buf);
    const line: Line = {
      start: this.lineStart,
      end,
      text: utf8 ? buf.toString('utf8') : buf.toString('base64'),
      encoding: utf8 ? 'utf8' : 'base64',
      truncated: this.length > this.maxLineBytes,
      length: this.length,
    };
    this.parts = [];
    this.kept = 0;
    this.length = 0;
    this.lineStart = end;
    return line;
  }
}
