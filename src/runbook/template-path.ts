// Where a runbook template named in a plan lives: a path relative to the plan directory (never out of it), the
// plan's own templates/, or the package's. Shared by the plan checker and the executor.
import {existsSync} from 'node:fs'
import path from 'node:path'
import {TEMPLATES_DIR} from '../paths.js'

/** A template name that is a path (has a "/" or ends in .yaml/.yml): relative to the plan directory. */
export function isTemplatePath(name: string): boolean {
  return name.includes('/') || /\.ya?ml$/.test(name)
}

/** A template path that resolves outside the plan directory (absolute, or climbing out with ".."): refused. */
export function templatePathEscapes(planDir: string, name: string): boolean {
  const root = path.resolve(planDir)
  return !path.resolve(root, name).startsWith(root + path.sep)
}

/**
 * Where a template name resolves: a path relative to the plan (inside the plan directory), or
 * <plan>/templates/NAME.yaml, or the package's templates/NAME.yaml.
 */
export function resolveTemplateFile(planDir: string, name: string): string | undefined {
  if (isTemplatePath(name) && templatePathEscapes(planDir, name)) return undefined
  const candidates = isTemplatePath(name)
    ? [path.resolve(planDir, name)]
    : [
        path.join(planDir, 'templates', `${name}.yaml`),
        path.join(planDir, 'templates', `${name}.yml`),
        path.join(TEMPLATES_DIR, `${name}.yaml`),
        path.join(TEMPLATES_DIR, `${name}.yml`),
      ]
  return candidates.find((c) => existsSync(c))
}
