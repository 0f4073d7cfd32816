// The folders of src/ form layers: no two top-level folders import each other, directly or round a loop (issue 17).
// The top-level files (src/*.ts) count as one room each. A cycle is reported with the imports that make it.
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

const SRC = path.resolve(import.meta.dirname, '../../src')

function sources(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) return sources(p)
    return e.name.endsWith('.ts') ? [p] : []
  })
}

/** The room of a file: its top-level folder, or the file itself when it sits directly in src/. */
function roomOf(file: string): string {
  const parts = path.relative(SRC, file).split(path.sep)
  return parts.length > 1 ? `${parts[0]}/` : parts[0]
}

/** room → room → the imports that make that edge. */
function importGraph(): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>()
  for (const file of sources(SRC)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = path.resolve(path.dirname(file), m[1].replace(/\.js$/, '.ts'))
      const [a, b] = [roomOf(file), roomOf(target)]
      if (a === b) continue
      const out = graph.get(a) ?? new Map<string, string[]>()
      graph.set(a, out)
      out.set(b, [...(out.get(b) ?? []), `${path.relative(SRC, file)} → ${m[1]}`])
    }
  }
  return graph
}

function reaches(graph: Map<string, Map<string, string[]>>, from: string, to: string): boolean {
  const seen = new Set<string>()
  const stack = [from]
  while (stack.length > 0) {
    const at = stack.pop() as string
    if (at === to) return true
    if (seen.has(at)) continue
    seen.add(at)
    stack.push(...(graph.get(at)?.keys() ?? []))
  }
  return false
}

describe('the folders of src/', () => {
  it('import each other without a cycle', () => {
    const graph = importGraph()
    const onCycles: string[] = []
    for (const [a, out] of graph) {
      for (const [b, imports] of out) if (reaches(graph, b, a)) onCycles.push(`${a} → ${b}: ${imports.join(', ')}`)
    }
    expect(graph.size).toBeGreaterThan(10)
    expect(onCycles).toEqual([])
  })
})
