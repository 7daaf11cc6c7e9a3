// Progress for long commands: on a terminal (stderr a TTY) one status line rewritten in place
// — items done/total, bytes, throughput, ETA — with each finished item's line printed above
// it; elsewhere (a pipe, a log file, CI) one plain line per item with the same figures, and
// nothing in between, so logs stay readable.
import { formatDuration } from "@strata/tsdb";

/** The part of a stream the renderer uses (process.stderr / process.stdout, or a test's). */
export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** What is counted: "blocks". */
  unit: string;
  totalItems: number;
  totalBytes: number;
  /** Where the status line goes (default process.stderr); a TTY gets the self-rewriting line. */
  status?: ProgressStream;
  /** Where item lines go (default process.stdout). */
  out?: ProgressStream;
  now?: () => number;
  /** Least time between two redraws of the status line (default 100 ms). */
  redrawMs?: number;
}

/** One line on a terminal, rewritten in place: redrawn at most every `redrawMs`, cut to the width. */
export class StatusLine {
  private drawnAt = Number.NEGATIVE_INFINITY;
  /** Something is on the line now. */
  shown = false;
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly redrawMs: number;

  constructor(stream: ProgressStream, now: () => number, redrawMs = 100) {
    this.stream = stream;
    this.now = now;
    this.redrawMs = redrawMs;
  }

  /** The last redraw is older than `redrawMs`. */
  due(): boolean {
    return this.now() - this.drawnAt >= this.redrawMs;
  }

  draw(text: string): void {
    this.drawnAt = this.now();
    this.shown = true;
    const width = this.stream.columns ?? 0;
    this.stream.write(`\r${width > 1 && text.length >= width ? text.slice(0, width - 1) : text}\x1b[K`);
  }

  clear(): void {
    if (this.shown) this.stream.write("\r\x1b[K");
    this.shown = false;
  }
}

export class Progress {
  private items = 0;
  private bytes = 0;
  private readonly start: number;
  private readonly status: ProgressStream;
  private readonly out: ProgressStream;
  private readonly now: () => number;
  private readonly tty: boolean;
  private readonly opts: ProgressOptions;
  private readonly line: StatusLine;

  constructor(opts: ProgressOptions) {
    this.opts = opts;
    this.status = opts.status ?? process.stderr;
    this.out = opts.out ?? process.stdout;
    this.now = opts.now ?? Date.now;
    this.tty = this.status.isTTY === true;
    this.start = this.now();
    this.line = new StatusLine(this.status, this.now, opts.redrawMs);
  }

  /** `n` more bytes done; redraws the status line on a terminal (at most every `redrawMs`). */
  addBytes(n: number): void {
    this.bytes += n;
    if (this.tty && this.line.due()) this.draw();
  }

  /** A line about the current item (e.g. "verifying …"): shown on the status line on a terminal only. */
  note(text: string): void {
    if (this.tty) this.draw(text);
  }

  /**
   * One item finished: `line` says how; `restBytes` are its bytes not yet counted (a skipped
   * item's), so the totals and the ETA stay true. Off a terminal the figures follow the line.
   * A `failed` item's line goes to the status stream (stderr), not to `out`.
   */
  itemDone(line: string, restBytes = 0, opts: { failed?: boolean } = {}): void {
    this.items++;
    this.bytes += restBytes;
    // A failed item's line goes to stderr, with the command's other complaints.
    const to = opts.failed ? this.status : this.out;
    if (this.tty) {
      this.clear();
      to.write(`${line}\n`);
      this.draw();
    } else to.write(`${line}  [${this.text()}]\n`);
  }

  /** A line that is not an item (a problem found before starting): printed above the status line. */
  log(line: string): void {
    if (this.tty) this.clear();
    this.out.write(`${line}\n`);
    if (this.tty && this.line.shown) this.draw();
  }

  /** Remove the status line (call once at the end). */
  finish(): void {
    if (this.tty) this.clear();
  }

  /** `3/10 blocks, 1.2 GiB/4.0 GiB, 45.6 MiB/s, ETA 1m2s`. */
  text(): string {
    const { totalItems, totalBytes, unit } = this.opts;
    const secs = Math.max(this.now() - this.start, 1) / 1000;
    const rate = this.bytes / secs;
    const parts = [`${this.items}/${totalItems} ${unit}`, `${formatBytes(this.bytes)}/${formatBytes(totalBytes)}`];
    parts.push(`${formatBytes(rate)}/s`);
    const left = Math.max(totalBytes - this.bytes, 0);
    if (left === 0) parts.push(`${formatSeconds(secs)} elapsed`);
    else if (rate > 0) parts.push(`ETA ${formatSeconds(left / rate)}`);
    return parts.join(", ");
  }

  private draw(extra?: string): void {
    this.line.draw(extra ? `${this.text()}  ${extra}` : this.text());
  }

  private clear(): void {
    this.line.clear();
  }
}

/** IEC units with 1 decimal: `512 B`, `1.5 KiB`, `4.0 GiB`. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Seconds, shortly: `<1s`, `45s`, `62s`, `2h5m` (tsdb's duration form, whole seconds). */
export function formatSeconds(s: number): string {
  return s < 1 ? "<1s" : formatDuration(Math.round(s) * 1000);
}
