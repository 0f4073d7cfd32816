// Bounded parallelism, the one helper for it (discovery's probes and regions, the executor's units): fn over items
// with at most `limit` in flight, results in input order. After a failure no new item starts, and the items in
// flight finish before the first failure is thrown, so nothing the caller started still runs when it hears of it
// (p-map and p-limit reject at once and leave them running).
export async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  let failed: {error: unknown} | undefined
  const worker = async (): Promise<void> => {
    while (next < items.length && failed === undefined) {
      const i = next++
      try {
        out[i] = await fn(items[i], i)
      } catch (error) {
        failed ??= {error}
      }
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(limit, items.length))}, worker))
  if (failed !== undefined) throw failed.error
  return out
}
