// A block on the command line: a local directory, or a block URL in a bucket
// (`s3://bucket[/prefix]/<tenant>/<ULID>`, `file:///path/<tenant>/<ULID>`) read in place with
// ranged GETs, as the pipeline reads its inputs. Every block command opens its arguments here.
// @strata/bucket is imported only when a URL is given: directory users and `--help` never load it.
import { stat } from "node:fs/promises";
import { basename, isAbsolute, resolve } from "node:path";
import { BlockReader, FormatError, isUlid, type BlockSource } from "@strata/tsdb";
import { DirBlockSource } from "@strata/tsdb/node";
import type { ObjectStore, RangeCache } from "@strata/bucket";
import { UsageError } from "./command.ts";
import { ReadProgress } from "./read-progress.ts";

/** A block argument, opened. */
export interface BlockArg {
  /** How messages name it: the directory as typed, or the block's URL. */
  name: string;
  source: BlockSource;
  /** The ULID the block's meta.json must carry: its folder's name, when that is a ULID. */
  expectedUlid?: string;
  /** Forgets the block's cached pages (a command done with it, going on to the next). */
  release(): void;
}

/** `scheme://…` (or `file:…`): a URL, not a path. */
export function isUrlArg(arg: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(arg) || arg.startsWith("file:");
}

/**
 * Opens block arguments. URLs in one bucket share its store; with `inputs`, the blocks are one
 * job's inputs and share one page cache (`RangeCache.forJob(inputs)`, as the pipeline's
 * compactions), else each block has its own (`forJob(1)`). `close()` closes the stores.
 */
export class BlockArgs {
  private readonly inputs: number | undefined;
  private readonly stores = new Map<string, Promise<ObjectStore>>();
  private cache: RangeCache | undefined;
  private readonly progress: ReadProgress | undefined;

  /** `progress`: what the command does ("compacting"), for a status line on a terminal (ReadProgress). */
  constructor(opts: { inputs?: number; progress?: string } = {}) {
    this.inputs = opts.inputs;
    this.progress = opts.progress === undefined ? undefined : ReadProgress.forTerminal(opts.progress);
  }

  /** A block argument, opened, its reads counted for the status line when there is one. */
  async open(arg: string | undefined): Promise<BlockArg> {
    const b = await this.openArg(arg);
    return this.progress ? { ...b, source: this.progress.wrap(b.source) } : b;
  }

  /**
   * A directory (not one: usage error, exit 2) or a block URL: malformed, a usage error;
   * a missing block or an unknown tenant, the bucket's error (one line, exit 1 through
   * `reportBucketProblem`, from the dispatcher).
   */
  private async openArg(arg: string | undefined): Promise<BlockArg> {
    if (!arg) throw new UsageError("a block directory or block URL is required");
    if (!isUrlArg(arg)) {
      const st = await stat(arg).catch(() => undefined);
      if (!st?.isDirectory()) throw new UsageError(`${arg}: not a directory`);
      const folder = basename(resolve(arg));
      return {
        name: arg,
        source: new DirBlockSource(arg),
        expectedUlid: isUlid(folder) ? folder : undefined,
        release: () => {},
      };
    }
    const b = await import("@strata/bucket");
    let loc: import("@strata/bucket").BlockUrl;
    try {
      loc = b.parseBlockUrl(arg);
    } catch (e) {
      if (e instanceof b.BucketUrlError) throw new UsageError(e.message, { cause: e });
      throw e;
    }
    let store = this.stores.get(loc.bucketUrl);
    if (!store) this.stores.set(loc.bucketUrl, (store = b.openStore(loc.bucketUrl)));
    const prefix = await b.requireBlock(await store, loc);
    const cache =
      this.inputs === undefined ? b.RangeCache.forJob(1) : (this.cache ??= b.RangeCache.forJob(this.inputs));
    const source = new b.StoreBlockSource(await store, prefix, cache);
    return {
      name: b.blockUrl(loc.bucketUrl, loc.tenant, loc.block),
      source,
      expectedUlid: loc.block,
      // A source's pages are cached under its name (StoreBlockSource).
      release: () => cache.drop(source.name),
    };
  }

  /** The reading is over: the status line goes, before the command prints its results. */
  endProgress(): void {
    this.progress?.finish();
  }

  async close(): Promise<void> {
    this.progress?.finish();
    const stores = [...this.stores.values()];
    this.stores.clear();
    for (const s of await Promise.allSettled(stores)) if (s.status === "fulfilled") await s.value.close?.();
  }
}

/**
 * Opens one block argument for reading: the reader, what messages call it, and how to let go
 * of both. A FormatError while opening names the block (`inBlock`); callers wrap their reads alike.
 */
export async function openBlockReader(
  arg: string | undefined,
): Promise<{ reader: BlockReader; name: string; close(): Promise<void> }> {
  const args = new BlockArgs();
  try {
    const b = await args.open(arg);
    const reader = await BlockReader.open(b.source).catch((e: unknown) => {
      throw inBlock(b.name, e);
    });
    return {
      reader,
      name: b.name,
      close: async () => {
        try {
          await reader.close();
        } finally {
          await args.close();
        }
      },
    };
  } catch (e) {
    await args.close();
    throw e;
  }
}

/**
 * A block's FormatError names the file inside the block (`index @0: …`); this names the block
 * too (`s3://b/team-a/01J…/index @0: …`), so a line says which block of several is broken.
 * Any other error is returned as it is.
 */
export function inBlock(name: string, e: unknown): unknown {
  if (!(e instanceof FormatError)) return e;
  const file = e.file;
  if (file !== undefined && (file.startsWith(name) || isAbsolute(file) || isUrlArg(file))) return e;
  const named = new FormatError(
    e.code,
    e.detail,
    {
      file: file === undefined ? name : `${name.replace(/\/+$/, "")}/${file}`,
      offset: e.offset,
      expected: e.expected,
      found: e.found,
    },
    { cause: e.cause ?? e },
  );
  return named;
}
