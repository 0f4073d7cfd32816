// js-yaml, as src/io/yaml-read.ts and its parts use it: its CommonJS build. Its ES module build creates the parser's
// state with object spread, which makes parseEvents several times slower once it is called for many pieces of one
// document (figures: bench/README.md); the CommonJS build creates the same state through a helper and keeps its speed.
// Every part of the reader takes js-yaml from here, so that its errors and schema objects are of this one copy.
import {createRequire} from 'node:module'

const jsYaml: typeof import('js-yaml') = createRequire(import.meta.url)('js-yaml')

export const {
  COLLECTION_STYLE,
  constructFromEvents,
  defineMappingTag,
  defineScalarTag,
  EVENT_ID,
  getScalarValue,
  NOT_RESOLVED,
  parseEvents,
  SCALAR_STYLE,
  Schema,
  seqTag,
  strTag,
  YAMLException,
} = jsYaml
export type {DocumentEvent, Event, ScalarEvent} from 'js-yaml'
