/**
 * Local-filesystem adapters for the ByteSource/BlockSource ports. The only module of
 * this package that touches `node:*`; everything else works on bytes.
 */
import { open, readdir, mkdir, rename, rm, type FileHandle } from "node:fs/promises";
import { join, dirname } from "node:path";
import type { BlockSink, BlockSource, ByteSink, ByteSource } from "../encoding/source.ts";
import { checkRange } from "../encoding/source.ts";

export class FileSource implements ByteSource {
  readonly path: string;
  readonly size: number;
  private fh: FileHandle;

  private constructor(path: string, fh: FileHandle, size: number) {
    this.path = path;
    this.fh = fh;
    this.size = size;
  }

  static async open(path: string): Promise<FileSource> {
    const fh = await open(path, "r");
    const st = await fh.stat();
    return new FileSource(path, fh, st.size);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, this.size);
    const buf = new Uint8Array(length);
    await this.fill(offset, buf);
    return buf;
  }

  /** Fill `dst` from `offset` in place: readers that refill one window use this and make no garbage. */
  async readInto(offset: number, dst: Uint8Array): Promise<void> {
    checkRange(offset, dst.length, this.size);
    await this.fill(offset, dst);
  }

  private async fill(offset: number, dst: Uint8Array): Promise<void> {
    const length = dst.length;
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(dst, done, length - done, offset + done);
      if (bytesRead === 0) throw new RangeError(`${this.path}: unexpected end of file at ${offset + done}`);
      done += bytesRead;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

export class FileSink implements ByteSink {
  private fh: FileHandle;
  readonly path: string;
  private pos = 0;
  private constructor(path: string, fh: FileHandle) {
    this.path = path;
    this.fh = fh;
  }
  static async create(path: string): Promise<FileSink> {
    await mkdir(dirname(path), { recursive: true });
    return new FileSink(path, await open(path, "w"));
  }
  async write(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, done, bytes.length - done, this.pos);
      done += bytesWritten;
      this.pos += bytesWritten;
    }
  }
  async close(): Promise<void> {
    await this.fh.close();
  }
  async abort(): Promise<void> {
    await this.fh.close().catch(() => {});
    await rm(this.path, { force: true });
  }
}

/** A block directory on disk. */
export class DirBlockSource implements BlockSource {
  readonly name: string;
  constructor(dir: string) {
    this.name = dir;
  }
  open(relPath: string): Promise<ByteSource> {
    return FileSource.open(join(this.name, relPath));
  }
  async tryOpen(relPath: string): Promise<ByteSource | undefined> {
    try {
      return await FileSource.open(join(this.name, relPath));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }
  async listChunkFiles(): Promise<string[]> {
    try {
      return (await readdir(join(this.name, "chunks"))).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
  }
}

/**
 * Writes a block into `<parent>/<ulid>.tmp-for-creation` and renames it into place on
 * commit, as Prometheus does, so a crash never leaves a half-written block that looks whole.
 */
export class DirBlockSink implements BlockSink {
  readonly tmpDir: string;
  readonly finalDir: string;
  readonly ulid: string;
  constructor(parent: string, ulid: string) {
    this.ulid = ulid;
    this.finalDir = join(parent, ulid);
    this.tmpDir = this.finalDir + ".tmp-for-creation";
  }
  create(relPath: string): Promise<ByteSink> {
    return FileSink.create(join(this.tmpDir, relPath));
  }
  async commit(): Promise<string> {
    await rm(this.finalDir, { recursive: true, force: true });
    await rename(this.tmpDir, this.finalDir);
    return this.finalDir;
  }
  async abort(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
  }
}
