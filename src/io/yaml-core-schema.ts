// The js-yaml schema src/io/yaml-read.ts reads with: scalars resolved and mappings keyed as the `yaml` library does
// under the YAML 1.2 core schema.
import {defineMappingTag, defineScalarTag, NOT_RESOLVED, Schema, seqTag, strTag} from './js-yaml.js'

// yaml's core schema, tag by tag (yaml/dist/schema/core/{bool,int,float}.js, schema/common/null.js). Only plain
// scalars are resolved; an explicit !!int/!!float/!!bool/!!null tag is refused (yaml's rules for those differ by
// version and are not worth matching for hand-written files: quote the value or drop the tag).
const NULL = /^(?:~|[Nn]ull|NULL)?$/
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/
const INT_OCT = /^0o[0-7]+$/
const INT = /^[-+]?[0-9]+$/
const INT_HEX = /^0x[0-9a-fA-F]+$/
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/

/** The value of a plain (unquoted, untagged) scalar under yaml's core schema. */
export function resolvePlain(source: string): unknown {
  if (NULL.test(source)) return null
  if (BOOL.test(source)) return source[0] === 't' || source[0] === 'T'
  if (INT_OCT.test(source)) return Number.parseInt(source.slice(2), 8)
  if (INT.test(source)) return Number.parseInt(source, 10)
  if (INT_HEX.test(source)) return Number.parseInt(source.slice(2), 16)
  if (FLOAT_NAN.test(source))
    return source.slice(-3).toLowerCase() === 'nan'
      ? Number.NaN
      : source[0] === '-'
        ? Number.NEGATIVE_INFINITY
        : Number.POSITIVE_INFINITY
  if (FLOAT_EXP.test(source) || FLOAT.test(source)) return Number.parseFloat(source)
  return source
}

const implicitOnly =
  (test: (s: string) => boolean) =>
  (source: string, isExplicit: boolean): unknown =>
    !isExplicit && test(source) ? resolvePlain(source) : NOT_RESOLVED

const nullTag = defineScalarTag('tag:yaml.org,2002:null', {
  implicit: true,
  implicitFirstChars: ['', '~', 'n', 'N'],
  resolve: implicitOnly((s) => NULL.test(s)),
  identify: (v) => v === null,
})
const boolTag = defineScalarTag('tag:yaml.org,2002:bool', {
  implicit: true,
  implicitFirstChars: ['t', 'T', 'f', 'F'],
  resolve: implicitOnly((s) => BOOL.test(s)),
  identify: (v) => typeof v === 'boolean',
})
const intTag = defineScalarTag('tag:yaml.org,2002:int', {
  implicit: true,
  implicitFirstChars: ['-', '+', ...'0123456789'],
  resolve: implicitOnly((s) => INT_OCT.test(s) || INT.test(s) || INT_HEX.test(s)),
  identify: (v) => Number.isInteger(v),
})
const floatTag = defineScalarTag('tag:yaml.org,2002:float', {
  implicit: true,
  implicitFirstChars: ['-', '+', '.', ...'0123456789'],
  resolve: implicitOnly((s) => FLOAT_NAN.test(s) || FLOAT_EXP.test(s) || FLOAT.test(s)),
  identify: (v) => typeof v === 'number',
})

/** Sets a mapping's entry as yaml's toJS does: an inherited name ("toString", "__proto__") becomes an own property. */
export function setEntry(map: Record<string, unknown>, name: string, value: unknown): void {
  if (name in map) Object.defineProperty(map, name, {value, writable: true, enumerable: true, configurable: true})
  else map[name] = value
}

/**
 * Mappings as plain objects, keyed as yaml's toJS keys them (String(key); an inherited name such as "toString" or
 * "__proto__" becomes an own property). Keys yaml would turn into something else are refused: null (yaml makes it
 * ""), and collections (yaml writes them out as flow YAML).
 */
const mapTag = defineMappingTag<Record<string, unknown>>('tag:yaml.org,2002:map', {
  create: () => ({}),
  addPair: (map, key, value) => {
    if (key === null)
      return 'a mapping key is empty (null or ~); name the key, or quote it ("~") if it is meant literally'
    if (typeof key === 'object') return 'a list or mapping used as a key is not supported; use a plain key'
    setEntry(map, String(key), value)
    return ''
  },
  has: (map, key) => (key === null || typeof key === 'object' ? false : Object.hasOwn(map, String(key))),
  keys: (map) => Object.keys(map),
  get: (map, key) => map[String(key)],
  identify: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
})

export const SCHEMA = new Schema([strTag, seqTag, mapTag, nullTag, boolTag, intTag, floatTag])
