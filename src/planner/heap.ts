// A binary min-heap of group numbers under a given order (the scheduler's ready queue).
export class Heap {
  private readonly a: number[] = []
  constructor(private readonly less: (x: number, y: number) => boolean) {}
  get size(): number {
    return this.a.length
  }
  peek(): number {
    return this.a[0]
  }
  push(x: number): void {
    const a = this.a
    a.push(x)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(a[i], a[p])) break
      ;[a[i], a[p]] = [a[p], a[i]]
      i = p
    }
  }
  pop(): number {
    const a = this.a
    const top = a[0]
    const last = a.pop()!
    if (a.length > 0) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && this.less(a[l], a[m])) m = l
        if (r < a.length && this.less(a[r], a[m])) m = r
        if (m === i) break
        ;[a[i], a[m]] = [a[m], a[i]]
        i = m
      }
    }
    return top
  }
  /** Empties the heap, returning its contents in no particular order. */
  drain(): number[] {
    return this.a.splice(0)
  }
}
