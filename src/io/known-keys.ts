// The field names a schema allows at a document path, so an unknown field can be answered with the one that was
// probably meant. Walks zod 4's schema definitions (objects, arrays, records, unions and the wrappers around them).
import type {z} from 'zod'

type Def = {
  type: string
  shape?: Record<string, z.ZodType>
  element?: z.ZodType
  valueType?: z.ZodType
  options?: z.ZodType[]
  innerType?: z.ZodType
  in?: z.ZodType
  getter?: () => z.ZodType
  left?: z.ZodType
  right?: z.ZodType
}
const defOf = (s: z.ZodType): Def => (s as unknown as {_zod: {def: Def}})._zod.def

/** The schemas a value at `path` may have to satisfy (several under a union). */
function schemasAt(schema: z.ZodType, path: readonly (string | number)[], depth = 0): z.ZodType[] {
  if (depth > 64) return []
  const d = defOf(schema)
  const inner = d.innerType ?? d.in ?? (d.type === 'lazy' && d.getter ? d.getter() : undefined)
  if (inner && d.type !== 'object' && d.type !== 'array') return schemasAt(inner, path, depth + 1)
  if (d.type === 'union') return (d.options ?? []).flatMap((o) => schemasAt(o, path, depth + 1))
  if (d.type === 'intersection')
    return [d.left, d.right].filter((x): x is z.ZodType => !!x).flatMap((o) => schemasAt(o, path, depth + 1))
  if (path.length === 0) return [schema]
  const [head, ...rest] = path
  if (d.type === 'object' && d.shape && typeof head === 'string' && head in d.shape)
    return schemasAt(d.shape[head], rest, depth + 1)
  if (d.type === 'array' && d.element) return schemasAt(d.element, rest, depth + 1)
  if (d.type === 'record' && d.valueType) return schemasAt(d.valueType, rest, depth + 1)
  return []
}

/** Field names allowed in the object at `path` (empty when unknown). */
export function knownKeys(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  const keys = new Set<string>()
  for (const s of schemasAt(schema, path)) {
    const d = defOf(s)
    if (d.type === 'object' && d.shape) for (const k of Object.keys(d.shape)) keys.add(k)
  }
  return [...keys]
}
