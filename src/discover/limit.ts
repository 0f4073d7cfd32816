// Bounded parallelism: run fn over items with at most `limit` in flight, results in input order.
export async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  let failed: unknown
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const i = next++
      try {
        out[i] = await fn(items[i], i)
      } catch (error) {
        failed ??= error
      }
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(limit, items.length))}, worker))
  if (failed !== undefined) throw failed
  return out
}
