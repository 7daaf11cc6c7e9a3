import type { BlockSink, ByteSink } from "../encoding/source.ts";

/**
 * A sink whose every file creation and write first checks `signal`: a writer stopped by it
 * (a job near its deadline) throws AbortError at its next write instead of finishing a block
 * nobody will commit. Without a signal, the sink itself.
 */
export function stoppableSink<S extends BlockSink>(sink: S, signal: AbortSignal | undefined): BlockSink {
  if (!signal) return sink;
  return {
    create: async (rel): Promise<ByteSink> => {
      signal.throwIfAborted();
      const inner = await sink.create(rel);
      return {
        write: (b) => {
          signal.throwIfAborted();
          return inner.write(b);
        },
        close: () => inner.close(),
        abort: inner.abort && (() => inner.abort!()),
      };
    },
  };
}
