// Where the package's own files live, wherever it is installed (compiled to dist/src/paths.js).
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
/** The package root: the folder with package.json, templates/ and plans/. */
export const PACKAGE_ROOT = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) || here.endsWith(`${path.sep}dist${path.sep}src`) ? '../..' : '..')
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
