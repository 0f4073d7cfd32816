// Aliases within bounds: src/io/yaml-read.ts refuses a value whose aliases form a cycle or expand it too far.
import {MAX_ALIAS_EXPANSION, YamlRefused} from './yaml-refusal.js'

/**
 * Aliases make the value a graph that later steps (schema checks, digests, the writer) walk as a tree. Refuses a
 * cycle, and a document whose aliases add more than MAX_ALIAS_EXPANSION nodes when expanded — linear in the graph.
 */
export function checkAliasExpansion(root: unknown, at: number): void {
  if (root === null || typeof root !== 'object') return
  const size = new Map<object, number>()
  const open = new Set<object>()
  const stack: {node: object; children: unknown[]; i: number; total: number}[] = []
  // `written` counts each value once as it stands in the file; `total` counts it as often as aliases repeat it.
  let written = 0
  const enter = (node: object): void => {
    if (open.has(node))
      throw new YamlRefused(
        'an alias refers to the anchor it is inside of (the data would be endless)',
        at,
        'YAML_ALIAS_LIMIT',
      )
    open.add(node)
    written++
    stack.push({node, children: Array.isArray(node) ? node : Object.values(node), i: 0, total: 1})
  }
  enter(root)
  let total = 0
  while (stack.length > 0) {
    const top = stack[stack.length - 1]
    if (top.i < top.children.length) {
      const child = top.children[top.i++]
      if (child === null || typeof child !== 'object') {
        written++
        top.total++
      } else {
        const known = size.get(child)
        if (known === undefined) enter(child)
        else top.total += known
      }
      continue
    }
    stack.pop()
    open.delete(top.node)
    size.set(top.node, top.total)
    if (stack.length > 0) stack[stack.length - 1].total += top.total
    else total = top.total
  }
  if (total - written > MAX_ALIAS_EXPANSION) {
    throw new YamlRefused(
      `aliases expand this document by more than ${MAX_ALIAS_EXPANSION.toLocaleString('en')} values (an "alias bomb")`,
      at,
      'YAML_ALIAS_LIMIT',
    )
  }
}
