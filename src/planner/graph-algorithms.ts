// Graph algorithms the planner builds on, over arrays in CSR form (start offsets and a flat list): union-find,
// CSR from edge lists, pair aggregation, strongly connected components, a shortest path inside a component, and a
// depth-first post-order. Iterative throughout, so a long chain does not exhaust the stack.

export class UnionFind {
  readonly parent: Int32Array
  constructor(n: number) {
    this.parent = new Int32Array(n)
    for (let i = 0; i < n; i++) this.parent[i] = i
  }
  find(x: number): number {
    const p = this.parent
    while (p[x] !== x) {
      p[x] = p[p[x]]
      x = p[x]
    }
    return x
  }
  union(a: number, b: number): void {
    const ra = this.find(a)
    const rb = this.find(b)
    if (ra === rb) return
    if (ra < rb) this.parent[rb] = ra
    else this.parent[ra] = rb
  }
}

/** CSR adjacency from edge lists (duplicates allowed). */
export function csr(n: number, src: Int32Array, dst: Int32Array, m: number): {start: Int32Array; list: Int32Array} {
  const start = new Int32Array(n + 1)
  for (let e = 0; e < m; e++) start[src[e] + 1]++
  for (let i = 0; i < n; i++) start[i + 1] += start[i]
  const fill = start.slice(0, n)
  const list = new Int32Array(m)
  for (let e = 0; e < m; e++) list[fill[src[e]]++] = dst[e]
  return {start, list}
}

/**
 * Aggregates a multigraph into CSR with one entry per distinct (src, dst) pair and its multiplicity: bucket by
 * src (counting sort), merge repeated dst with a stamp array. O(n + m), no hashing. Entries keep first-seen order.
 */
export function aggregatePairs(
  n: number,
  src: Int32Array,
  dst: Int32Array,
  m: number,
): {start: Int32Array; list: Int32Array; count: Float64Array} {
  const bucket = new Int32Array(n + 1)
  for (let e = 0; e < m; e++) bucket[src[e] + 1]++
  for (let i = 0; i < n; i++) bucket[i + 1] += bucket[i]
  const fill = bucket.slice(0, n)
  const order = new Int32Array(m)
  for (let e = 0; e < m; e++) order[fill[src[e]]++] = e
  const stamp = new Int32Array(n).fill(-1)
  const pos = new Int32Array(n)
  const start = new Int32Array(n + 1)
  const list = new Int32Array(m)
  const count = new Float64Array(m)
  let k = 0
  for (let a = 0; a < n; a++) {
    start[a] = k
    for (let j = bucket[a]; j < bucket[a + 1]; j++) {
      const b = dst[order[j]]
      if (stamp[b] !== a) {
        stamp[b] = a
        pos[b] = k
        list[k++] = b
      }
      count[pos[b]]++
    }
  }
  start[n] = k
  return {start, list: list.subarray(0, k), count: count.subarray(0, k)}
}

/** Strongly connected components, iteratively (Tarjan); returns comp[node] numbered in discovery order. */
export function scc(n: number, start: Int32Array, list: Int32Array): {comp: Int32Array; count: number} {
  const index = new Int32Array(n).fill(-1)
  const low = new Int32Array(n)
  const onStack = new Uint8Array(n)
  const comp = new Int32Array(n).fill(-1)
  const stack = new Int32Array(n)
  let sp = 0
  const callNode = new Int32Array(n)
  const callEdge = new Int32Array(n)
  let next = 0
  let count = 0
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue
    let depth = 0
    callNode[0] = root
    callEdge[0] = start[root]
    index[root] = low[root] = next++
    stack[sp++] = root
    onStack[root] = 1
    while (depth >= 0) {
      const v = callNode[depth]
      const e = callEdge[depth]
      if (e < start[v + 1]) {
        callEdge[depth]++
        const w = list[e]
        if (index[w] === -1) {
          index[w] = low[w] = next++
          stack[sp++] = w
          onStack[w] = 1
          depth++
          callNode[depth] = w
          callEdge[depth] = start[w]
        } else if (onStack[w] && index[w] < low[v]) low[v] = index[w]
      } else {
        if (low[v] === index[v]) {
          let w: number
          do {
            w = stack[--sp]
            onStack[w] = 0
            comp[w] = count
          } while (w !== v)
          count++
        }
        depth--
        if (depth >= 0) {
          const u = callNode[depth]
          if (low[v] < low[u]) low[u] = low[v]
        }
      }
    }
  }
  return {comp, count}
}

/** A shortest path from `from` to `to` inside the strongly connected component of `from` (breadth first). */
export function findPath(from: number, to: number, start: Int32Array, list: Int32Array, comp: Int32Array): number[] {
  const prev = new Map<number, number>([[from, -1]])
  const queue = [from]
  for (let qi = 0; qi < queue.length; qi++) {
    const v = queue[qi]
    if (v === to) break
    for (let k = start[v]; k < start[v + 1]; k++) {
      const w = list[k]
      if (comp[w] !== comp[from] || prev.has(w)) continue
      prev.set(w, v)
      queue.push(w)
    }
  }
  const path: number[] = []
  for (let v = to; v !== -1 && v !== undefined; v = prev.get(v)!) path.unshift(v)
  return path
}

/** Depth-first post-order over predecessors: every group after its dependencies, chains kept together. */
export function postOrder(G: number, predStart: Int32Array, predList: Int32Array): Int32Array {
  const out = new Int32Array(G)
  let k = 0
  const state = new Uint8Array(G)
  const stackNode = new Int32Array(G)
  const stackEdge = new Int32Array(G)
  for (let root = 0; root < G; root++) {
    if (state[root]) continue
    let sp = 0
    stackNode[0] = root
    stackEdge[0] = predStart[root]
    state[root] = 1
    while (sp >= 0) {
      const v = stackNode[sp]
      const e = stackEdge[sp]
      if (e < predStart[v + 1]) {
        stackEdge[sp]++
        const w = predList[e]
        if (!state[w]) {
          state[w] = 1
          sp++
          stackNode[sp] = w
          stackEdge[sp] = predStart[w]
        }
      } else {
        out[k++] = v
        sp--
      }
    }
  }
  return out
}
