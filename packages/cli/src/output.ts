/** Buffered stdout for commands that print millions of lines; stops quietly on a closed pipe. */
export class Output {
  private parts: string[] = [];
  private size = 0;
  private closed = false;
  private readonly stream: NodeJS.WritableStream;

  constructor(stream: NodeJS.WritableStream = process.stdout) {
    this.stream = stream;
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") this.closed = true;
      else throw e;
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async line(s: string): Promise<void> {
    this.parts.push(s, "\n");
    this.size += s.length + 1;
    if (this.size >= 1 << 16) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0 || this.closed) {
      this.parts = [];
      this.size = 0;
      return;
    }
    const chunk = this.parts.join("");
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off("drain", done);
          this.stream.off("error", done);
          resolve();
        };
        this.stream.once("drain", done);
        this.stream.once("error", done);
      });
    }
  }
}
