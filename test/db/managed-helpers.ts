// Helpers for the managed-target tests: a block of free ports in this file's range, checked at run time.
import net from 'node:net'

function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

/** The first `base + k*step` (k = 0, 1, …, below `limit`) from which `count` consecutive ports are all free. */
export async function freePortBlock(base: number, count: number, limit: number, step = 10): Promise<number> {
  for (let p = base; p + count <= limit; p += step) {
    let ok = true
    for (let i = 0; i < count && ok; i++) ok = await free(p + i)
    if (ok) return p
  }
  throw new Error(`no ${count} free ports between ${base} and ${limit}`)
}
