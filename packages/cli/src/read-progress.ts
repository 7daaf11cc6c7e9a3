// Progress for the commands that read whole blocks (compact, downsample, convert, verify): on a
// terminal, one status line rewritten in place — bytes read of the block files opened so far,
// throughput, ETA; anywhere else nothing, so their output in pipes, logs and tests is unchanged.
import type { BlockSource, ByteSource } from "@strata/tsdb";
import { StatusLine, formatBytes, formatSeconds, type ProgressStream } from "./progress.ts";

export class ReadProgress {
  private read = 0;
  private total = 0;
  private readonly start: number;
  private readonly label: string;
  private readonly now: () => number;
  private readonly line: StatusLine;

  private constructor(label: string, stream: ProgressStream, now: () => number) {
    this.label = label;
    this.now = now;
    this.start = now();
    this.line = new StatusLine(stream, now);
  }

  /** A progress line on `stream` when it is a terminal; undefined otherwise. */
  static forTerminal(
    label: string,
    stream: ProgressStream = process.stderr,
    now: () => number = Date.now,
  ): ReadProgress | undefined {
    return stream.isTTY === true ? new ReadProgress(label, stream, now) : undefined;
  }

  /** The same block, its reads counted: every file opened adds its size to the total. */
  wrap(source: BlockSource): BlockSource {
    const counted = (b: ByteSource): ByteSource => {
      this.total += b.size;
      return {
        size: b.size,
        read: async (offset, length) => {
          const r = await b.read(offset, length);
          this.add(length);
          return r;
        },
        readInto: b.readInto
          ? async (offset, dst) => {
              await b.readInto!(offset, dst);
              this.add(dst.length);
            }
          : undefined,
        close: b.close ? () => b.close!() : undefined,
      };
    };
    return {
      name: source.name,
      open: async (rel) => counted(await source.open(rel)),
      tryOpen: async (rel) => {
        const b = await source.tryOpen(rel);
        return b && counted(b);
      },
      listChunkFiles: () => source.listChunkFiles(),
    };
  }

  /** `compacting: 1.2 GiB/4.0 GiB read, 45.6 MiB/s, ETA 1m2s` (a file read twice counts twice, capped at the total). */
  text(): string {
    const secs = Math.max(this.now() - this.start, 1) / 1000;
    const read = Math.min(this.read, this.total);
    const rate = read / secs;
    const parts = [`${this.label}: ${formatBytes(read)}/${formatBytes(this.total)} read`, `${formatBytes(rate)}/s`];
    if (rate > 0 && this.total > read) parts.push(`ETA ${formatSeconds((this.total - read) / rate)}`);
    return parts.join(", ");
  }

  /** Remove the status line (the command is done). */
  finish(): void {
    this.line.clear();
  }

  private add(n: number): void {
    this.read += n;
    if (this.line.due()) this.line.draw(this.text());
  }
}
