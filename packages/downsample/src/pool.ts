/**
 * Worker threads that downsample batches of series beside the thread that reads and
 * writes the block. Downsampling costs as much CPU again as decoding (encoding
 * incompressible aggregates, framing and checksumming them); a second core takes that
 * work off the reader, so the block takes little longer than decoding it does.
 *
 * A worker runs the module that holds this file: the .ts source when run from source, the
 * bundle when bundled (a Lambda handler, the CLI). Entry code in a bundle must therefore
 * do nothing when `isMainThread` is false; this module then serves batches.
 */
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { BufferPool, buffersOf, runBatch, type BatchBuffers, type PackedInput, type PackedOutput } from "./batch.ts";
import { SeriesDownsampler } from "./series.ts";

const MARK = "strataDownsampleWorker";

interface Request {
  id: number;
  inRes: number;
  outRes: number;
  input: PackedInput;
  /** An output the caller has written out, for the worker to fill again. */
  spare?: BatchBuffers;
}

/** The output, and the input's buffers handed back for reuse. */
export interface Done {
  output: PackedOutput;
  used: BatchBuffers;
}

type Reply = ({ id: number } & Done) | { id: number; crash: string };

function transferList(b: BatchBuffers[]): ArrayBuffer[] {
  return b.flatMap((x) => [x.bytes, x.table]);
}

/** Workers to use when the caller does not say: every core but the caller's, at most 3. */
export function defaultWorkers(): number {
  return Math.max(0, Math.min(availableParallelism() - 1, 3));
}

/**
 * Whether this module can start itself as a worker: it needs its own file URL, which a
 * CommonJS bundle does not keep (SST and our benches bundle ESM, which does).
 */
const selfUrl: URL | undefined =
  typeof import.meta.url === "string" && import.meta.url.startsWith("file:") ? new URL(import.meta.url) : undefined;

/** One worker thread and the batches it has been given. */
export class Lane {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (d: Done) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private dead: Error | undefined;
  /** Batches this worker has returned. */
  served = 0;

  constructor() {
    this.worker = new Worker(selfUrl!, { workerData: { [MARK]: true } });
    // Idle workers must not keep a process (a CLI run, a test) alive.
    this.worker.unref();
    // Node refs the worker's port again when the thread comes online, which undoes an unref
    // made before: a worker never given a batch then kept `strata downsample --workers 2` alive.
    this.worker.on("online", () => {
      if (this.waiting.size === 0) this.worker.unref();
    });
    this.worker.on("message", (r: Reply) => {
      const w = this.waiting.get(r.id);
      if (w === undefined) return;
      this.waiting.delete(r.id);
      if (this.waiting.size === 0) this.worker.unref();
      this.served++;
      if ("crash" in r) w.reject(new Error(`downsampling worker failed: ${r.crash}`));
      else w.resolve({ output: r.output, used: r.used });
    });
    this.worker.on("error", (e) => this.fail(e));
    this.worker.on("exit", (code) => this.fail(new Error(`downsampling worker exited with code ${code}`)));
  }

  get alive(): boolean {
    return this.dead === undefined;
  }

  /** Batches given and not yet returned. */
  get inFlight(): number {
    return this.waiting.size;
  }

  /**
   * Downsample a batch on this worker. Its buffers, and `spare`'s, are transferred:
   * unusable here after.
   */
  run(input: PackedInput, inRes: number, outRes: number, spare?: BatchBuffers): Promise<Done> {
    if (this.dead !== undefined) return Promise.reject(this.dead);
    const id = this.nextId++;
    const p = new Promise<Done>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.worker.ref();
    const req: Request = { id, inRes, outRes, input, spare };
    this.worker.postMessage(req, transferList(spare !== undefined ? [buffersOf(input), spare] : [buffersOf(input)]));
    return p;
  }

  /** Stop the thread; batches still out fail. */
  async terminate(): Promise<void> {
    this.fail(new Error("downsampling worker was stopped"));
    await this.worker.terminate();
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const w of this.waiting.values()) w.reject(this.dead);
    this.waiting.clear();
  }
}

// One pool per process, grown on demand; warm workers are reused across blocks, as a
// warm Lambda container reuses its module state.
const lanes: Lane[] = [];

/** `n` live workers (started on first use); none where this module cannot start itself. */
export function workerLanes(n: number): Lane[] {
  if (selfUrl === undefined) return [];
  for (let i = lanes.length - 1; i >= 0; i--) if (!lanes[i]!.alive) lanes.splice(i, 1);
  while (lanes.length < n) lanes.push(new Lane());
  return lanes.slice(0, n);
}

/** Stop every worker (a long-lived process shutting down; tests). The next block starts new ones. */
export async function closeWorkers(): Promise<void> {
  const all = lanes.splice(0);
  await Promise.all(all.map((l) => l.terminate()));
}

function serve(): void {
  const port = parentPort!;
  const byRes = new Map<string, SeriesDownsampler>();
  // Output buffers sent back for reuse; a worker fills one per batch and keeps at most two.
  const spare = new BufferPool(2);
  port.on("message", (req: Request) => {
    try {
      const key = `${req.inRes}/${req.outRes}`;
      let ds = byRes.get(key);
      if (ds === undefined) byRes.set(key, (ds = new SeriesDownsampler(req.inRes, req.outRes)));
      if (req.spare !== undefined) spare.put(req.spare);
      const output = runBatch(ds, req.input, spare.take());
      const reply: Reply = { id: req.id, output, used: buffersOf(req.input) };
      port.postMessage(reply, transferList([buffersOf(output), reply.used]));
    } catch (e) {
      const reply: Reply = { id: req.id, crash: e instanceof Error ? (e.stack ?? e.message) : String(e) };
      port.postMessage(reply);
    }
  });
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[MARK] === true) serve();
