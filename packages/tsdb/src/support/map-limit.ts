/**
 * `fn` over every item with at most `limit` calls in flight, results in the items' order: the
 * bounded fan-out of object-store reads (a tenant's meta.json files, markers), so a listing of
 * thousands of blocks neither runs one GET at a time nor opens thousands of sockets at once.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
