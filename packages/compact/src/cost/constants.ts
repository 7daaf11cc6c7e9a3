/**
 * The cost model's throughputs, in one place. Each was measured on our own engines on the
 * 2-core bench machine (x64, Node 24, the engine code as deployed); where a figure is a
 * judgement rather than a measurement the comment says so. Refit them when an engine changes:
 * `node packages/compact/bench/cost-calibrate.ts` for compaction, `npm run bench` for the rest
 * (it prints each estimate next to the measured time and warns outside [0.5, 2]).
 */

const MiB = 2 ** 20;

/**
 * Fixed cost of one job: JIT warm-up, opening the inputs (meta, index TOC, symbols, postings
 * offset table). Measured: the compaction bench's cold child process (353 ms for 3×2h 5k
 * series with opening) against the same compaction warm in one process (172 ms,
 * cost-calibrate "3×2h 5k series").
 */
export const JOB_START_SECONDS = 0.15;

/**
 * Compaction (read + merge + write, copy path) per input byte (index + chunks): 3.5 ns/B
 * (~285 MB/s). Fitted with COMPACT_SECONDS_PER_SERIES by least squares over
 * packages/compact/bench/cost-calibrate.ts: 3×2h 5k series (35.6 MB, 15k input series,
 * 0.172 s), 3×30m 40k series (79.2 MB, 120k, 0.574 s), 2×8h 2k series (37.0 MB, 4k,
 * 0.161 s), 6×2h 5k series (71.2 MB, 30k, 0.237 s); warm, in process, best of three.
 */
export const COMPACT_SECONDS_PER_BYTE = 3.5e-9;
/** Compaction per input series (label reads, the k-way heap, postings): 3 µs; same fit as above. */
export const COMPACT_SECONDS_PER_SERIES = 3e-6;
/**
 * Vertical (overlapping) merges decode, merge and re-encode the overlapping chunks: 80 ns
 * per input sample on top of the copy path. Measured: cost-calibrate "3×2h 5k series
 * overlapping" (3 replicas of the same 7.2 M samples: 0.742 s against 0.172 s disjoint).
 * Charged for every input sample of a vertical plan (the worst case: all chunks overlap).
 */
export const VERTICAL_SECONDS_PER_SAMPLE = 80e-9;

/**
 * Compaction memory above the runtime: a working heap, per input its chunk windows and
 * tables, per input series the readers' and writers' share (postings, label refs, garbage
 * between collections), per extra output shard its writer. Fitted to cost-calibrate's peak
 * RSS above the child's baseline (50 MiB for 3×2h 5k, 192 MiB for 3×30m 40k, 116 MiB for
 * 6×2h 5k, +41 MiB for 4 shards), rounded up so that every shape is over-, not under-, estimated.
 */
export const COMPACT_BASE_BYTES = 40 * MiB;
export const COMPACT_BYTES_PER_INPUT = 8 * MiB;
export const COMPACT_BYTES_PER_SERIES = 1536;
export const COMPACT_BYTES_PER_EXTRA_SHARD = 10 * MiB;

/**
 * Downsampling (raw → 5m, with the default worker thread of a 2-vCPU Lambda): 15 ns per
 * input sample plus 3 ns per chunk byte (decoding is per byte, aggregation and encoding per
 * window). Fitted to packages/downsample/bench/downsample.bench.ts (40h, 5k series, 24 M
 * samples; 116 MB of chunks with random gauges: 0.53–0.60 s quiet, 1.3 s on a loaded
 * machine; 65 MB with page-walk gauges: 0.41–0.59 s quiet, 0.93 s loaded).
 */
export const DOWNSAMPLE_SECONDS_PER_SAMPLE = 15e-9;
export const DOWNSAMPLE_SECONDS_PER_BYTE = 3e-9;
/** The output's chunks against the input's: 42% measured on the random-gauge block (48.5 of 116 MB); 0.5 to be safe. */
export const DOWNSAMPLE_OUTPUT_RATIO = 0.5;
/**
 * Downsampling memory above the runtime: the worker's isolate and ~20 MB of batches in
 * flight (downsample README: 190 MB RSS with a worker, 121 MB without, ~60 MB of it the
 * runtime), plus the readers' tables, charged as the index's size.
 */
export const DOWNSAMPLE_BASE_BYTES = 140 * MiB;
export const DOWNSAMPLE_BYTES_PER_INDEX_BYTE = 1;

/**
 * Verification (every index section, every chunk read, CRC-checked and decoded): 6 ns per
 * byte (~165 MB/s). Measured: packages/verify/bench/verify.bench.ts (~50 MB block of 7.2 k
 * series): 118 MB/s on a loaded machine, 212 MB/s quiet (warm, best of four); the middle.
 */
export const VERIFY_SECONDS_PER_BYTE = 6e-9;
/**
 * Verification memory above the runtime: 35 MB measured on the same bench (96.6 MB peak, 61.6 MB base), plus the
 * index's tables.
 */
export const VERIFY_BASE_BYTES = 40 * MiB;
export const VERIFY_BYTES_PER_INDEX_BYTE = 1;

/**
 * S3 throughput of one worker, bytes/s: a parameter of every estimate (CostParams). NOT
 * measured against AWS here: the bucket bench (s3-block-read) reads 81 MB/s from the local
 * emulator over loopback; 40 MB/s is a conservative figure for one Lambda's sequential
 * ranged GETs (and multipart PUTs) in the same region. Reads and writes are charged on top
 * of the CPU time (the engines overlap them only partly).
 */
export const DEFAULT_S3_READ_BYTES_PER_SECOND = 40e6;
export const DEFAULT_S3_WRITE_BYTES_PER_SECOND = 40e6;

/**
 * When meta.json lacks `thanos.files` (Prometheus' own blocks) and the caller knows no size:
 * index bytes per series (~100 B measured on the bench blocks' three labels; 250 for
 * real label sets, a judgement) and chunk bytes per sample (Prometheus' ~1.3 B for scraped
 * data, the bench's random gauges ~4.7 B; 2 as a middle).
 */
export const FALLBACK_INDEX_BYTES_PER_SERIES = 250;
export const FALLBACK_CHUNK_BYTES_PER_SAMPLE = 2;
/** When even the sample count is unknown: bytes per chunk (the bench blocks' 566 B, rounded). */
export const FALLBACK_CHUNK_BYTES_PER_CHUNK = 600;
