// Move groups and the order between them. Applications joined by a latency-sensitive link or a `together`
// constraint are merged first (union-find); the strongly connected components of the merged dependency graph are
// the move groups, so dependency cycles never split and are never errors. The groups then form a DAG of
// precedence edges: a dependency target moves in the same or an earlier wave, `before` strictly earlier. A cycle
// through a `before` constraint, or a pin that contradicts the order, is the user's error and named as such.
import {badInput} from '../errors.js'
import {aggregatePairs, csr, findPath, postOrder, scc, UnionFind} from './graph-algorithms.js'
import type {AppEdges, EstateModel} from './model.js'
import {unknownAppError} from './model.js'

export {aggregatePairs} from './graph-algorithms.js'

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

type Why = 'cycle' | 'latency' | 'together'

/** Builds move groups and their precedence DAG; throws on `before` cycles. */
export function buildGroups(model: EstateModel, opts: {mergeLinks: boolean; dependencyOrder: boolean}): GroupGraph {
  const merged = mergeLinked(model, opts.mergeLinks)
  const {root, groupOf, members} = moveGroups(model, merged.uf, opts.dependencyOrder)
  const why = members.map((ms) => groupWhy(ms, merged.why, root))
  const prec = precedence(model, groupOf, members, why, merged.befores, opts.dependencyOrder)
  const {succ, pred} = precedenceCsr(members.length, prec)
  checkBeforeCycles(model, groupOf, members, merged.befores, succ)
  const topo = postOrder(members.length, pred.start, pred.list)
  const rank = new Int32Array(members.length)
  for (let i = 0; i < members.length; i++) rank[topo[i]] = i
  return {
    count: members.length,
    groupOf,
    members,
    why,
    predStart: pred.start,
    predList: pred.list,
    predStrict: pred.strict,
    succStart: succ.start,
    succList: succ.list,
    succStrict: succ.strict,
    topo,
    rank,
  }
}

/**
 * Applications joined by a latency-sensitive link (when `mergeLinks`) or a `together` constraint, merged in a
 * union-find, with why each was merged; and the `before` constraints between in-scope applications, as index pairs.
 */
function mergeLinked(
  model: EstateModel,
  mergeLinks: boolean,
): {uf: UnionFind; why: Map<number, Set<Why>>; befores: [number, number][]} {
  const {apps, edges, settings, appIndex} = model
  const uf = new UnionFind(apps.length)
  const why = new Map<number, Set<Why>>()
  const mark = (a: number, w: Why) => {
    let s = why.get(a)
    if (!s) why.set(a, (s = new Set()))
    s.add(w)
  }
  if (mergeLinks) {
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
      const idx = c.together.map((name) => togetherMember(model, name))
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
  return {uf, why, befores}
}

/** The application a `together` constraint names, which must exist and be in scope. */
function togetherMember(model: EstateModel, name: string): number {
  const {apps, appIndex} = model
  const i = appIndex.get(name)
  if (i === undefined) throw unknownAppError(name, 'settings.constraints (together)', appIndex)
  if (!apps[i].inScope)
    throw badInput(
      `together constraint names "${name}", which is ${apps[i].strategy === 'retire' ? 'retired' : 'retained'} and has no wave`,
      'CONSTRAINT_OUT_OF_SCOPE',
      'Remove it from the constraint, or change its strategy',
    )
  return i
}

/**
 * The move groups: the strongly connected components (when `dependencyOrder`) of the dependency graph between
 * merged applications (root[app], in-scope only), numbered by their first (alphabetical) application for stable ids.
 */
function moveGroups(
  model: EstateModel,
  uf: UnionFind,
  dependencyOrder: boolean,
): {root: Int32Array; groupOf: Int32Array; members: number[][]} {
  const {apps, edges} = model
  const n = apps.length
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
  const {comp} = dependencyOrder ? scc(r, q.start, q.list) : {comp: Int32Array.from({length: r}, (_, i) => i)}
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
  return {root, groupOf, members}
}

/** Why a group of several applications exists: its members' merge reasons, and a cycle when it spans merged sets. */
function groupWhy(ms: number[], why: Map<number, Set<Why>>, root: Int32Array): Set<Why> {
  const s = new Set<Why>()
  if (ms.length > 1) {
    for (const a of ms) for (const w of why.get(a) ?? []) s.add(w)
    const roots = new Set(ms.map((a) => root[a]))
    if (roots.size > 1) s.add('cycle')
  }
  return s
}

/** Precedence edges between groups, pred → succ, strict = 1 for a `before` constraint. */
interface Precedence {
  src: Int32Array
  dst: Int32Array
  strict: Uint8Array
}

/**
 * The precedence edges: a dependency a→b (a uses b) puts b's group before a's (when `dependencyOrder`), a `before`
 * constraint strictly; a `before` within one group cannot hold.
 */
function precedence(
  model: EstateModel,
  groupOf: Int32Array,
  members: number[][],
  why: Set<Why>[],
  befores: [number, number][],
  dependencyOrder: boolean,
): Precedence {
  const ps: number[] = []
  const pd: number[] = []
  const pstrict: number[] = []
  if (dependencyOrder) {
    const {xs, ys, k} = edgesBetween(model.edges, groupOf, true)
    const agg = aggregatePairs(members.length, xs, ys, k)
    for (let g = 0; g < members.length; g++) {
      for (let j = agg.start[g]; j < agg.start[g + 1]; j++) {
        ps.push(g)
        pd.push(agg.list[j])
        pstrict.push(0)
      }
    }
  }
  const {apps} = model
  for (const [a, b] of befores) {
    const ga = groupOf[a]
    const gb = groupOf[b]
    if (ga === gb) {
      throw badInput(
        `constraint "before: [${apps[a].name}, ${apps[b].name}]" cannot hold: both must move in the same wave (${describeGroup(model, members[ga], why[ga])})`,
        'CONSTRAINT_CONTRADICTS_GROUP',
        `Remove the constraint from settings.constraints, or break the link that joins them`,
      )
    }
    ps.push(ga)
    pd.push(gb)
    pstrict.push(1)
  }
  return {src: Int32Array.from(ps), dst: Int32Array.from(pd), strict: Uint8Array.from(pstrict)}
}

/** One direction of the precedence CSR, with the strict flag carried along. */
interface Adjacency {
  start: Int32Array
  list: Int32Array
  strict: Uint8Array
}

/** Successor and predecessor CSR of the precedence edges. */
function precedenceCsr(G: number, p: Precedence): {succ: Adjacency; pred: Adjacency} {
  const m = p.src.length
  const side = (key: Int32Array, other: Int32Array): Adjacency => {
    const start = new Int32Array(G + 1)
    for (let e = 0; e < m; e++) start[key[e] + 1]++
    for (let i = 0; i < G; i++) start[i + 1] += start[i]
    const fill = start.slice(0, G)
    const list = new Int32Array(m)
    const strict = new Uint8Array(m)
    for (let e = 0; e < m; e++) {
      const k = fill[key[e]]++
      list[k] = other[e]
      strict[k] = p.strict[e]
    }
    return {start, list, strict}
  }
  return {succ: side(p.src, p.dst), pred: side(p.dst, p.src)}
}

/** A cycle between groups can only run through a `before` constraint: names the first such constraint and its cycle. */
function checkBeforeCycles(
  model: EstateModel,
  groupOf: Int32Array,
  members: number[][],
  befores: [number, number][],
  succ: Adjacency,
): void {
  const G = members.length
  const cyc = scc(G, succ.start, succ.list)
  if (cyc.count === G) return
  const {apps} = model
  const size = new Int32Array(cyc.count)
  for (let g = 0; g < G; g++) size[cyc.comp[g]]++
  for (const [a, b] of befores) {
    const ga = groupOf[a]
    if (size[cyc.comp[ga]] > 1 && cyc.comp[ga] === cyc.comp[groupOf[b]]) {
      const path = findPath(groupOf[b], ga, succ.start, succ.list, cyc.comp)
      const chain = path.map((g) => apps[members[g][0]].name)
      throw badInput(
        `ordering constraints contradict each other or the dependencies: "before: [${apps[a].name}, ${apps[b].name}]", but ${chain.join(' → ')} must go in that order (a cycle)`,
        'CONSTRAINT_CYCLE',
        'Remove or reverse one of the `before` constraints in settings.constraints (dependency targets must move in the same or an earlier wave)',
      )
    }
  }
}

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
