// Which plan directory a command works on, so an operator types little: --plan, else $MIGRATE_PLAN, else the
// only plan directory under ./plans.
import {existsSync, readdirSync, statSync} from 'node:fs'
import path from 'node:path'
import {badInput} from '../errors.js'

export function resolvePlanDir(flag: string | undefined, cwd = process.cwd()): string {
  if (flag) return path.resolve(cwd, flag)
  if (process.env.MIGRATE_PLAN) return path.resolve(cwd, process.env.MIGRATE_PLAN)
  const root = path.join(cwd, 'plans')
  const candidates = existsSync(root)
    ? readdirSync(root).filter((d) => statSync(path.join(root, d)).isDirectory() && existsSync(path.join(root, d, 'inventory.yaml')))
    : []
  if (candidates.length === 1) return path.join(root, candidates[0])
  throw badInput(
    candidates.length === 0 ? 'no plan directory given, and ./plans has none' : `no plan directory given, and ./plans has several: ${candidates.join(', ')}`,
    'PLAN_DIR_REQUIRED',
    'Pass --plan plans/<name> (or set MIGRATE_PLAN); `migrate discover … --out plans/<name>/inventory.yaml` creates one',
  )
}
