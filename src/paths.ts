// Where the package's own files live, wherever it is installed (compiled to dist/src/paths.js).
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
/** The package root: the folder with package.json, templates/ and plans/. */
export const PACKAGE_ROOT = path.resolve(
  here,
  here.includes(`${path.sep}dist${path.sep}`) || here.endsWith(`${path.sep}dist${path.sep}src`) ? '../..' : '..',
)
export const TEMPLATES_DIR = path.join(PACKAGE_ROOT, 'templates')
export const SCHEMAS_DIR = path.join(PACKAGE_ROOT, 'plans', 'schemas')
export const EXAMPLE_PLAN_DIR = path.join(PACKAGE_ROOT, 'plans', 'example')

/** File names inside a plan directory. */
export const PLAN_FILES = {
  inventory: 'inventory.yaml',
  plan: 'plan.yaml',
  settings: 'settings.yaml',
  journal: 'state.journal',
  lock: 'state.lock',
} as const

/**
 * A path as a person types it where they stand: relative to the working directory when that is shorter, quoted for a
 * POSIX shell when it holds anything but plain characters. For commands printed in hints, so they work when pasted.
 */
export function shellPath(p: string, cwd = process.cwd()): string {
  const abs = path.resolve(cwd, p)
  const rel = path.relative(cwd, abs) || '.'
  const shown = rel.length < abs.length ? rel : abs
  return /^[\w./@%+=:,-]+$/.test(shown) ? shown : `'${shown.replaceAll("'", `'\\''`)}'`
}
