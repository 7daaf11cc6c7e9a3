/**
 * A directory that behaves like a bucket, for the CLI and tests. Every mutation of a key
 * runs under a per-key lock file (created with O_EXCL), so conditional writes are
 * linearisable across processes; create-if-absent additionally uses link(2), which fails
 * atomically when the name exists. Objects appear by rename(2) of a finished temp file,
 * so readers never see half an object. ETags are MD5 content hashes, as S3 gives for
 * single-part objects.
 */
import { createHash, randomBytes } from "node:crypto";
import { link, mkdir, open, readdir, rename, rmdir, stat, unlink, writeFile, type FileHandle } from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import {
  PreconditionFailedError,
  compareKeys,
  normalizeEtag,
  type ByteRange,
  type GetResult,
  type ListOptions,
  type ListPage,
  type ObjectInfo,
  type ObjectStore,
  type ObjectWriter,
  type PutOptions,
  type UploadOptions,
} from "../store.ts";

/** Reserved directory at the root for temp files and locks; never listed. */
export const FS_RESERVED_DIR = ".strata";

export interface FsStoreOptions {
  /** A lock older than this is presumed abandoned by a crashed process (default 30 s). */
  staleLockMs?: number;
}

interface CachedEtag {
  ino: number;
  size: number;
  mtimeNs: bigint;
  etag: string;
}

export class FsStore implements ObjectStore {
  readonly root: string;
  readonly url: string;
  private readonly staleLockMs: number;
  private readonly etags = new Map<string, CachedEtag>();

  constructor(root: string, opts: FsStoreOptions = {}) {
    this.root = root.replace(/\/+$/, "") || "/";
    this.url = `file://${this.root}`;
    this.staleLockMs = opts.staleLockMs ?? 30_000;
  }

  private path(key: string): string {
    checkKey(key);
    return join(this.root, ...key.split("/"));
  }

  async get(key: string, range?: ByteRange): Promise<GetResult | undefined> {
    const fh = await openIfExists(this.path(key));
    if (!fh) return undefined;
    try {
      const st = await fh.stat({ bigint: true });
      const size = Number(st.size);
      let offset = 0;
      let length = size;
      if (range) {
        if (!(range.offset >= 0 && range.length >= 0 && range.offset + range.length <= size)) {
          throw new RangeError(
            `${this.url}/${key}: range [${range.offset}, ${range.offset + range.length}) outside object of ${size} bytes`,
          );
        }
        ({ offset, length } = range);
      }
      const body = await readExactly(fh, offset, length, `${this.url}/${key}`);
      // A ranged read does not hash the whole file for its ETag: it reports one only if known.
      const etag = !range ? this.remember(key, st, md5Etag(body)) : (this.cachedEtag(key, st) ?? "");
      return { key, size, lastModified: st.mtime, etag, body };
    } finally {
      await fh.close();
    }
  }

  async head(key: string, opts: { etag?: boolean } = {}): Promise<(ObjectInfo & { etag: string }) | undefined> {
    const fh = await openIfExists(this.path(key));
    if (!fh) return undefined;
    try {
      const st = await fh.stat({ bigint: true });
      const etag = opts.etag === false ? (this.cachedEtag(key, st) ?? "") : await this.etagOf(key, fh, st);
      return { key, size: Number(st.size), lastModified: st.mtime, etag };
    } finally {
      await fh.close();
    }
  }

  async put(key: string, body: Uint8Array | string, opts: PutOptions = {}): Promise<string | PreconditionFailedError> {
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    const target = this.path(key);
    const tmp = await this.tempPath();
    await writeFile(tmp, bytes);
    const etag = md5Etag(bytes);
    const r = await this.commit(key, target, tmp, opts);
    return r ?? etag;
  }

  async createWriter(key: string, opts: UploadOptions = {}): Promise<ObjectWriter> {
    const target = this.path(key);
    const tmp = await this.tempPath();
    const fh = await open(tmp, "wx");
    const hash = createHash("md5");
    let pos = 0;
    let settle!: { resolve: (etag: string) => void; reject: (e: unknown) => void };
    const done = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
    done.catch(() => {});
    return {
      done,
      write: async (b) => {
        hash.update(b);
        let off = 0;
        while (off < b.length) {
          const { bytesWritten } = await fh.write(b, off, b.length - off, pos);
          off += bytesWritten;
          pos += bytesWritten;
        }
      },
      close: async () => {
        try {
          await fh.close();
          const failed = await this.commit(key, target, tmp, { ifNoneMatch: opts.ifNoneMatch });
          if (failed) throw failed;
          settle.resolve(`"${hash.digest("hex")}"`);
        } catch (e) {
          settle.reject(e);
          throw e;
        }
      },
      abort: async () => {
        await fh.close().catch(() => {});
        await unlink(tmp).catch(() => {});
        settle.reject(new Error(`${this.url}/${key}: upload aborted`));
      },
    };
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListPage> {
    const max = Math.min(opts.maxKeys ?? 1000, 1000);
    const slash = prefix.lastIndexOf("/");
    const dirPart = prefix.slice(0, slash + 1);
    const namePart = prefix.slice(slash + 1);
    const base = dirPart ? join(this.root, ...dirPart.slice(0, -1).split("/")) : this.root;
    const items: { key: string; info?: ObjectInfo }[] = [];
    if (opts.delimiter) {
      for (const e of await readdirIfExists(base)) {
        if (!e.name.startsWith(namePart) || (!dirPart && e.name === FS_RESERVED_DIR)) continue;
        const key = dirPart + e.name;
        if (e.isDirectory()) {
          if ((await readdirIfExists(join(base, e.name))).length > 0) items.push({ key: key + "/" });
        } else if (e.isFile()) {
          const info = await this.statInfo(key, join(base, e.name));
          if (info) items.push({ key, info });
        }
      }
    } else {
      await this.walk(base, dirPart, namePart, items);
    }
    items.sort((a, b) => compareKeys(a.key, b.key));
    let start = 0;
    if (opts.token !== undefined) {
      while (start < items.length && compareKeys(items[start]!.key, opts.token) <= 0) start++;
    }
    const page = items.slice(start, start + max);
    const out: ListPage = { objects: [], prefixes: [] };
    for (const it of page) {
      if (it.info) out.objects.push(it.info);
      else out.prefixes.push(it.key);
    }
    if (start + max < items.length) out.next = page[page.length - 1]!.key;
    return out;
  }

  async delete(key: string, opts: { ifMatch?: string } = {}): Promise<void | PreconditionFailedError> {
    const target = this.path(key);
    const failed = await this.withLock(key, async () => {
      if (opts.ifMatch !== undefined) {
        const cur = await this.currentEtag(key, target);
        if (cur === undefined || normalizeEtag(cur) !== normalizeEtag(opts.ifMatch))
          return new PreconditionFailedError(key, `If-Match ${opts.ifMatch}`);
      }
      await unlink(target).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "ENOENT") throw e;
      });
      this.etags.delete(key);
      return undefined;
    });
    if (failed) return failed;
    await this.pruneEmptyDirs(dirname(target));
  }

  // --- internals ----------------------------------------------------------------------

  /** Moves a finished temp file into place under the key's lock, honouring the conditions. */
  private async commit(
    key: string,
    target: string,
    tmp: string,
    opts: PutOptions,
  ): Promise<PreconditionFailedError | undefined> {
    try {
      return await this.withLock(key, async () => {
        if (opts.ifMatch !== undefined) {
          const cur = await this.currentEtag(key, target);
          if (cur === undefined || normalizeEtag(cur) !== normalizeEtag(opts.ifMatch))
            return new PreconditionFailedError(key, `If-Match ${opts.ifMatch}`);
        }
        this.etags.delete(key);
        for (let attempt = 0; ; attempt++) {
          try {
            if (opts.ifNoneMatch === "*") await link(tmp, target);
            else await rename(tmp, target);
            return undefined;
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            if (code === "EEXIST") return new PreconditionFailedError(key, "If-None-Match *", false, { cause: e });
            // The parent may be missing, or removed by a concurrent delete pruning empty dirs.
            if (code !== "ENOENT" || attempt >= 5) throw e;
            await mkdir(dirname(target), { recursive: true });
          }
        }
      });
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  private async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lock = join(this.root, FS_RESERVED_DIR, "locks", createHash("sha1").update(key).digest("hex"));
    let delay = 1;
    for (;;) {
      try {
        const fh = await open(lock, "wx");
        await fh.close();
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOENT") {
          await mkdir(dirname(lock), { recursive: true });
          continue;
        }
        if (code !== "EEXIST") throw e;
        const st = await stat(lock).catch(() => undefined);
        if (st && Date.now() - st.mtimeMs > this.staleLockMs) {
          await unlink(lock).catch(() => {});
          continue;
        }
        await sleep(delay * (0.5 + Math.random()));
        delay = Math.min(delay * 2, 25);
      }
    }
    try {
      return await fn();
    } finally {
      await unlink(lock).catch(() => {});
    }
  }

  private async tempPath(): Promise<string> {
    const dir = join(this.root, FS_RESERVED_DIR, "tmp");
    await mkdir(dir, { recursive: true });
    return join(dir, randomBytes(12).toString("hex"));
  }

  private async currentEtag(key: string, path: string): Promise<string | undefined> {
    const fh = await openIfExists(path);
    if (!fh) return undefined;
    try {
      return await this.etagOf(key, fh, await fh.stat({ bigint: true }));
    } finally {
      await fh.close();
    }
  }

  private cachedEtag(key: string, st: BigIntStats): string | undefined {
    const c = this.etags.get(key);
    return c && c.ino === Number(st.ino) && c.size === Number(st.size) && c.mtimeNs === st.mtimeNs ? c.etag : undefined;
  }

  /** MD5 of the content, cached by (inode, size, mtime): every write is a new inode. */
  private async etagOf(key: string, fh: FileHandle, st: BigIntStats): Promise<string> {
    const known = this.cachedEtag(key, st);
    if (known) return known;
    const hash = createHash("md5");
    const buf = new Uint8Array(1 << 20);
    for (let pos = 0; pos < Number(st.size); ) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return this.remember(key, st, `"${hash.digest("hex")}"`);
  }

  private remember(key: string, st: BigIntStats, etag: string): string {
    if (this.etags.size > 10_000) this.etags.clear();
    this.etags.set(key, { ino: Number(st.ino), size: Number(st.size), mtimeNs: st.mtimeNs, etag });
    return etag;
  }

  private async statInfo(key: string, path: string): Promise<ObjectInfo | undefined> {
    const st = await stat(path).catch(() => undefined);
    return st?.isFile() ? { key, size: st.size, lastModified: st.mtime } : undefined;
  }

  private async walk(
    dir: string,
    keyPrefix: string,
    namePart: string,
    out: { key: string; info?: ObjectInfo }[],
  ): Promise<void> {
    for (const e of await readdirIfExists(dir)) {
      if (namePart && !e.name.startsWith(namePart)) continue;
      if (dir === this.root && e.name === FS_RESERVED_DIR) continue;
      const key = keyPrefix + e.name;
      if (e.isDirectory()) await this.walk(join(dir, e.name), key + "/", "", out);
      else if (e.isFile()) {
        const info = await this.statInfo(key, join(dir, e.name));
        if (info) out.push({ key, info });
      }
    }
  }

  /** S3 has no directories: remove the ones a delete left empty, up to the root. */
  private async pruneEmptyDirs(dir: string): Promise<void> {
    while (dir.startsWith(this.root + sep) && dir !== this.root) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
      dir = dirname(dir);
    }
  }
}

type BigIntStats = Awaited<ReturnType<FileHandle["stat"]>> & {
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  mtime: Date;
};

function checkKey(key: string): void {
  const parts = key.split("/");
  if (key === "" || parts.some((p) => p === "" || p === "." || p === "..") || parts[0] === FS_RESERVED_DIR) {
    throw new RangeError(
      `invalid object key ${JSON.stringify(key)}: empty, "." or ".." segments and the ${FS_RESERVED_DIR}/ prefix are not allowed`,
    );
  }
}

async function openIfExists(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return undefined;
    throw e;
  }
}

async function readdirIfExists(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw e;
  }
}

async function readExactly(fh: FileHandle, offset: number, length: number, name: string): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
    if (bytesRead === 0) throw new RangeError(`${name}: unexpected end of file at byte ${offset + done}`);
    done += bytesRead;
  }
  return buf;
}

function md5Etag(b: Uint8Array): string {
  return `"${createHash("md5").update(b).digest("hex")}"`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
