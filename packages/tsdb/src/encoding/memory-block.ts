import { MemorySource, type BlockSink, type BlockSource, type ByteSink, type ByteSource } from "./source.ts";

/** An in-memory block directory: a BlockSink to write into and a BlockSource to read back (tests, small tools). */
export class MemoryBlock implements BlockSource, BlockSink {
  readonly name: string;
  readonly files = new Map<string, Uint8Array>();
  constructor(name = "memory") {
    this.name = name;
  }
  async create(relPath: string): Promise<ByteSink> {
    const parts: Uint8Array[] = [];
    return {
      write: async (b) => {
        parts.push(b.slice());
      },
      close: async () => {
        this.files.set(relPath, concat(parts));
      },
    };
  }
  async open(relPath: string): Promise<ByteSource> {
    const s = await this.tryOpen(relPath);
    if (!s) throw new Error(`${this.name}/${relPath}: no such file`);
    return s;
  }
  async tryOpen(relPath: string): Promise<ByteSource | undefined> {
    const b = this.files.get(relPath);
    return b ? new MemorySource(b) : undefined;
  }
  async listChunkFiles(): Promise<string[]> {
    return [...this.files.keys()]
      .filter((k) => k.startsWith("chunks/"))
      .map((k) => k.slice("chunks/".length))
      .sort();
  }
}

export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
