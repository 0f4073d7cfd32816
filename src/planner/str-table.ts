// A string → non-negative integer table with open addressing (FNV-1a, linear probing), sized once. Resolving
// a few hundred thousand ids (servers, dependency ends) this way costs about two thirds of a Map, which grows
// and rehashes as it fills.
export class StrTable {
  private readonly mask: number
  private readonly keys: (string | undefined)[]
  private readonly vals: Int32Array
  size = 0

  constructor(expected: number) {
    let cap = 16
    while (cap < expected * 2) cap *= 2
    this.mask = cap - 1
    this.keys = new Array<string | undefined>(cap).fill(undefined)
    this.vals = new Int32Array(cap)
  }

  private static hash(s: string): number {
    let h = 2166136261
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i)
      h = Math.imul(h, 16777619)
    }
    return h >>> 0
  }

  /** Sets key → value unless the key is present already (the first writer wins). Returns false when present. */
  add(key: string, value: number): boolean {
    const ks = this.keys
    let i = StrTable.hash(key) & this.mask
    for (;;) {
      const k = ks[i]
      if (k === undefined) break
      if (k === key) return false
      i = (i + 1) & this.mask
    }
    ks[i] = key
    this.vals[i] = value
    this.size++
    return true
  }

  /** The value, or -1. */
  get(key: string): number {
    const ks = this.keys
    let i = StrTable.hash(key) & this.mask
    for (;;) {
      const k = ks[i]
      if (k === undefined) return -1
      if (k === key) return this.vals[i]
      i = (i + 1) & this.mask
    }
  }
}
