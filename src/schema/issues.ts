// A semantic problem found by a pure checker, addressed by document path; the loader turns it into file:line:column.
import type {Path} from '../io/documents.js'

export interface PathIssue {
  path: Path
  code: string
  message: string
  hint?: string
  severity?: 'error' | 'warning' | 'info'
  /** Point at the key rather than the value (unknown fields). */
  atKey?: boolean
}
