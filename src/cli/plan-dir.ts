// Which plan directory a command works on, so an operator types little: --plan (a directory, or a file in it such as
// plans/x/plan.yaml), else $MIGRATE_PLAN, else the current directory when it is a plan directory, else the only plan
// directory under ./plans.
import {existsSync, readdirSync, statSync} from 'node:fs'
import path from 'node:path'
import {badInput} from '../errors.js'

/** Files that only live in a plan directory: naming one of them means its directory. */
const PLAN_DIR_FILE = /\.(ya?ml|json|journal|lock)$/i

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory()
const isPlanDir = (p: string): boolean =>
  existsSync(path.join(p, 'plan.yaml')) || existsSync(path.join(p, 'inventory.yaml'))

/** `--plan plans/x/plan.yaml` means `plans/x`: the directory of a file, never the file taken as a directory. */
function directoryOf(given: string, cwd: string): string {
  const p = path.resolve(cwd, given)
  if (isDir(p)) return p
  if (existsSync(p) || PLAN_DIR_FILE.test(p)) return path.dirname(p)
  return p
}

export function resolvePlanDir(flag: string | undefined, cwd = process.cwd()): string {
  if (flag) return directoryOf(flag, cwd)
  if (process.env.MIGRATE_PLAN) return directoryOf(process.env.MIGRATE_PLAN, cwd)
  if (isPlanDir(cwd)) return cwd
  const root = path.join(cwd, 'plans')
  const candidates = existsSync(root)
    ? readdirSync(root).filter((d) => isDir(path.join(root, d)) && existsSync(path.join(root, d, 'inventory.yaml')))
    : []
  if (candidates.length === 1) return path.join(root, candidates[0])
  throw badInput(
    candidates.length === 0
      ? 'no plan directory given, and neither . nor ./plans has one'
      : `no plan directory given, and ./plans has several: ${candidates.join(', ')}`,
    'PLAN_DIR_REQUIRED',
    'Pass --plan plans/<name> (or set MIGRATE_PLAN, or run it inside the plan directory); `migrate discover … --out plans/<name>/inventory.yaml` creates one',
  )
}
