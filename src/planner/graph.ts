// Move groups and the order between them. Applications joined by a latency-sensitive link or a `together`
// constraint are merged first (union-find); the strongly connected components of the merged dependency graph are
// the move groups, so dependency cycles never split and are never errors. The groups then form a DAG of
// precedence edges: a dependency target moves in the same or an earlier wave, `before` strictly earlier. A cycle
// through a `before` constraint, or a pin that contradicts the order, is the user's error and named as such.
import {badInput} from '../errors.js'
import type {AppEdges, EstateModel} from './model.js'
import {unknownAppError} from './model.js'

export interface GroupGraph {
  /** Number of move groups (in-scope applications only). */
  count: number
  /** groupOf[app] = group id, or -1 for applications out of scope. */
  groupOf: Int32Array
  /** members[g] = application indices, ascending. */
  members: number[][]
  /** Why the group exists (for reasons): 'cycle', 'latency', 'together'. */
  why: Set<'cycle' | 'latency' | 'together'>[]
  /** Precedence CSR: predecessors and successors of each group; strict=1 for `before` constraints. */
  predStart: Int32Array
  predList: Int32Array
  predStrict: Uint8Array
  succStart: Int32Array
  succList: Int32Array
  succStrict: Uint8Array
  /** Topological order (dependencies first), a depth-first post-order that keeps related groups close. */
  topo: Int32Array
  /** Position of each group in `topo`. */
  rank: Int32Array
}

class UnionFind {
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
function csr(n: number, src: Int32Array, dst: Int32Array, m: number): {start: Int32Array; list: Int32Array} {
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

/** Builds move groups and their precedence DAG; throws on `before` cycles. */
/**
 * Each edge a→b as the pair (part[a], part[b]), or (part[b], part[a]) when `reversed`, leaving out the edges with an
 * end in no part (-1) or both ends in one part. The pairs are xs[i], ys[i] for i < k.
 */
function edgesBetween(
  edges: AppEdges,
  part: Int32Array,
  reversed: boolean,
): {xs: Int32Array; ys: Int32Array; k: number} {
  const xs = new Int32Array(edges.count)
  const ys = new Int32Array(edges.count)
  let k = 0
  for (let e = 0; e < edges.count; e++) {
    const a = part[edges.from[e]]
    const b = part[edges.to[e]]
    if (a < 0 || b < 0 || a === b) continue
    xs[k] = reversed ? b : a
    ys[k] = reversed ? a : b
    k++
  }
  return {xs, ys, k}
}

export function buildGroups(model: EstateModel, opts: {mergeLinks: boolean; dependencyOrder: boolean}): GroupGraph {
  const {apps, edges, settings, appIndex} = model
  const n = apps.length
  const uf = new UnionFind(n)
  const why = new Map<number, Set<'cycle' | 'latency' | 'together'>>()
  const mark = (a: number, w: 'cycle' | 'latency' | 'together') => {
    let s = why.get(a)
    if (!s) why.set(a, (s = new Set()))
    s.add(w)
  }
  if (opts.mergeLinks) {
    for (let e = 0; e < edges.count; e++) {
      if (!edges.latency[e]) continue
      const a = edges.from[e]
      const b = edges.to[e]
      if (!apps[a].inScope || !apps[b].inScope) continue
      uf.union(a, b)
      mark(a, 'latency')
      mark(b, 'latency')
    }
  }
  const befores: [number, number][] = []
  for (const c of settings.constraints) {
    if ('together' in c) {
      const idx = c.together.map((name) => {
        const i = appIndex.get(name)
        if (i === undefined) throw unknownAppError(name, 'settings.constraints (together)', appIndex)
        if (!apps[i].inScope)
          throw badInput(
            `together constraint names "${name}", which is ${apps[i].strategy === 'retire' ? 'retired' : 'retained'} and has no wave`,
            'CONSTRAINT_OUT_OF_SCOPE',
            'Remove it from the constraint, or change its strategy',
          )
        return i
      })
      for (const i of idx) {
        uf.union(idx[0], i)
        mark(i, 'together')
      }
    } else {
      const [an, bn] = c.before
      const a = appIndex.get(an)
      const b = appIndex.get(bn)
      if (a === undefined) throw unknownAppError(an, 'settings.constraints (before)', appIndex)
      if (b === undefined) throw unknownAppError(bn, 'settings.constraints (before)', appIndex)
      if (!apps[a].inScope || !apps[b].inScope) continue
      befores.push([a, b])
    }
  }
  // Quotient graph over union-find roots, in-scope applications only.
  const root = new Int32Array(n).fill(-1)
  const rootId = new Int32Array(n).fill(-1)
  let r = 0
  for (let i = 0; i < n; i++) {
    if (!apps[i].inScope) continue
    const f = uf.find(i)
    if (rootId[f] === -1) rootId[f] = r++
    root[i] = rootId[f]
  }
  const pairs = edgesBetween(edges, root, false)
  const q = csr(r, pairs.xs, pairs.ys, pairs.k)
  const {comp} = opts.dependencyOrder ? scc(r, q.start, q.list) : {comp: Int32Array.from({length: r}, (_, i) => i)}
  // Number groups by their first (alphabetical) application, for stable ids.
  const groupOf = new Int32Array(n).fill(-1)
  const compGroup = new Map<number, number>()
  const members: number[][] = []
  for (let i = 0; i < n; i++) {
    if (root[i] < 0) continue
    const c = comp[root[i]]
    let g = compGroup.get(c)
    if (g === undefined) {
      g = members.length
      compGroup.set(c, g)
      members.push([])
    }
    groupOf[i] = g
    members[g].push(i)
  }
  const G = members.length
  const whyOf: Set<'cycle' | 'latency' | 'together'>[] = members.map((ms) => {
    const s = new Set<'cycle' | 'latency' | 'together'>()
    if (ms.length > 1) {
      for (const a of ms) for (const w of why.get(a) ?? []) s.add(w)
      const roots = new Set(ms.map((a) => root[a]))
      if (roots.size > 1) s.add('cycle')
    }
    return s
  })
  // Precedence edges between groups: pred → succ. Dependency a→b (a uses b): b's group precedes a's.
  const ps: number[] = []
  const pd: number[] = []
  const pstrict: number[] = []
  if (opts.dependencyOrder) {
    const {xs, ys, k} = edgesBetween(edges, groupOf, true)
    const agg = aggregatePairs(G, xs, ys, k)
    for (let g = 0; g < G; g++) {
      for (let j = agg.start[g]; j < agg.start[g + 1]; j++) {
        ps.push(g)
        pd.push(agg.list[j])
        pstrict.push(0)
      }
    }
  }
  for (const [a, b] of befores) {
    const ga = groupOf[a]
    const gb = groupOf[b]
    if (ga === gb) {
      throw badInput(
        `constraint "before: [${apps[a].name}, ${apps[b].name}]" cannot hold: both must move in the same wave (${describeGroup(model, members[ga], whyOf[ga])})`,
        'CONSTRAINT_CONTRADICTS_GROUP',
        `Remove the constraint from settings.constraints, or break the link that joins them`,
      )
    }
    ps.push(ga)
    pd.push(gb)
    pstrict.push(1)
  }
  const m = ps.length
  const src = Int32Array.from(ps)
  const dst = Int32Array.from(pd)
  const strictArr = Uint8Array.from(pstrict)
  // Successor and predecessor CSR with the strict flag carried along.
  const order = (key: Int32Array) => {
    const start = new Int32Array(G + 1)
    for (let e = 0; e < m; e++) start[key[e] + 1]++
    for (let i = 0; i < G; i++) start[i + 1] += start[i]
    const fill = start.slice(0, G)
    const idx = new Int32Array(m)
    for (let e = 0; e < m; e++) idx[fill[key[e]]++] = e
    return {start, idx}
  }
  const so = order(src)
  const po = order(dst)
  const succList = new Int32Array(m)
  const succStrict = new Uint8Array(m)
  const predList = new Int32Array(m)
  const predStrict = new Uint8Array(m)
  for (let k = 0; k < m; k++) {
    succList[k] = dst[so.idx[k]]
    succStrict[k] = strictArr[so.idx[k]]
    predList[k] = src[po.idx[k]]
    predStrict[k] = strictArr[po.idx[k]]
  }
  // A cycle now can only run through a `before` constraint.
  const cyc = scc(G, so.start, succList)
  if (cyc.count < G) {
    const size = new Int32Array(cyc.count)
    for (let g = 0; g < G; g++) size[cyc.comp[g]]++
    for (const [a, b] of befores) {
      const ga = groupOf[a]
      if (size[cyc.comp[ga]] > 1 && cyc.comp[ga] === cyc.comp[groupOf[b]]) {
        const path = findPath(groupOf[b], ga, so.start, succList, cyc.comp)
        const chain = path.map((g) => model.apps[members[g][0]].name)
        throw badInput(
          `ordering constraints contradict each other or the dependencies: "before: [${apps[a].name}, ${apps[b].name}]", but ${chain.join(' → ')} must go in that order (a cycle)`,
          'CONSTRAINT_CYCLE',
          'Remove or reverse one of the `before` constraints in settings.constraints (dependency targets must move in the same or an earlier wave)',
        )
      }
    }
  }
  const topo = postOrder(G, po.start, predList)
  const rank = new Int32Array(G)
  for (let i = 0; i < G; i++) rank[topo[i]] = i
  return {
    count: G,
    groupOf,
    members,
    why: whyOf,
    predStart: po.start,
    predList,
    predStrict,
    succStart: so.start,
    succList,
    succStrict,
    topo,
    rank,
  }
}

function findPath(from: number, to: number, start: Int32Array, list: Int32Array, comp: Int32Array): number[] {
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
function postOrder(G: number, predStart: Int32Array, predList: Int32Array): Int32Array {
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

export function describeGroup(model: EstateModel, ms: number[], why: Set<string>): string {
  const names = ms.map((a) => model.apps[a].name)
  const shown = names.length > 6 ? [...names.slice(0, 6), `… ${names.length - 6} more`] : names
  const reasons = [...why].map((w) =>
    w === 'cycle' ? 'a dependency cycle' : w === 'latency' ? 'latency-sensitive links' : 'a together constraint',
  )
  return `move group ${shown.join(', ')}${reasons.length ? ` (${reasons.join(', ')})` : ''}`
}

/** The move group's name in the plan: its application when alone, else "<first>+<n-1>". */
export function groupName(model: EstateModel, ms: number[]): string {
  return ms.length === 1 ? model.apps[ms[0]].name : `${model.apps[ms[0]].name}+${ms.length - 1}`
}
