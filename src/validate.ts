// `migrate validate`: check any number of files of any kind, collecting every problem.
import {existsSync, statSync, readdirSync} from 'node:fs'
import path from 'node:path'
import type {Diagnostic} from './diagnostics.js'
import {badInput} from './errors.js'
import {validateFile} from './file-kinds.js'
import type {KindName} from './schema/kinds.js'

const FILE_PATTERN = /\.(ya?ml|json|journal)$/

export interface ValidateResult {
  files: {file: string; kind: string | null; errors: number; warnings: number}[]
  diagnostics: Diagnostic[]
  errors: number
  warnings: number
}

/**
 * Expands directories to the YAML/JSON files in them (a plan directory: inventory, plan, settings, journal, and its
 * templates/). Throws NOTHING_TO_VALIDATE for a directory that holds none.
 */
export function expandFiles(inputs: string[]): string[] {
  const out: string[] = []
  const empty: string[] = []
  for (const f of inputs) {
    if (existsSync(f) && statSync(f).isDirectory()) {
      const before = out.length
      for (const name of readdirSync(f).sort()) if (FILE_PATTERN.test(name)) out.push(path.join(f, name))
      const templates = path.join(f, 'templates')
      if (out.length > before && existsSync(templates) && statSync(templates).isDirectory()) {
        for (const name of readdirSync(templates).sort())
          if (/\.ya?ml$/.test(name)) out.push(path.join(templates, name))
      }
      if (out.length === before) empty.push(f)
    } else out.push(f)
  }
  if (empty.length > 0 || out.length === 0) nothingToValidate(empty.length ? empty : inputs)
  return out
}

/** A directory with no file to check is a mistake (a wrong path, an empty checkout), never a pass. */
function nothingToValidate(inputs: string[]): never {
  const dirs = inputs.filter((f) => existsSync(f) && statSync(f).isDirectory())
  const below = dirs.flatMap((d) =>
    readdirSync(d, {withFileTypes: true})
      .filter(
        (e) =>
          e.isDirectory() &&
          readdirSync(path.join(d, e.name)).some((n) =>
            /^(inventory|plan|settings)\.(ya?ml|json)$|^state\.journal$/.test(n),
          ),
      )
      .map((e) => path.join(d, e.name)),
  )
  throw badInput(
    `nothing to validate: ${inputs.join(', ')} ${inputs.length === 1 ? 'holds' : 'hold'} no .yaml, .yml, .json or .journal file`,
    'NOTHING_TO_VALIDATE',
    below.length
      ? `Name the plan directories or the files themselves, e.g. \`migrate validate ${below.sort().slice(0, 3).join(' ')}\``
      : 'Name the files to check (inventory.yaml, plan.yaml, settings.yaml, templates/*.yaml, state.journal), or the directory that holds them',
  )
}

/**
 * `startedOf`: a plan file's started waves as its shared state backend says (else the journal file beside it says);
 * `extra`: diagnostics found before (reading that backend).
 */
export function validateFiles(
  inputs: string[],
  kind?: KindName,
  startedOf: (file: string) => readonly number[] | undefined = () => undefined,
  extra: Diagnostic[] = [],
): ValidateResult {
  const files: ValidateResult['files'] = []
  const diagnostics: Diagnostic[] = []
  for (const file of expandFiles(inputs)) {
    const r = validateFile(file, kind, undefined, {startedWaves: startedOf(file)})
    r.diagnostics.push(...extra.filter((d) => d.file === file))
    const errors = r.diagnostics.filter((d) => d.severity === 'error').length
    files.push({file, kind: r.kind ?? null, errors, warnings: r.diagnostics.length - errors})
    diagnostics.push(...r.diagnostics)
  }
  const errors = diagnostics.filter((d) => d.severity === 'error').length
  return {files, diagnostics, errors, warnings: diagnostics.length - errors}
}
