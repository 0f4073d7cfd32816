// `migrate validate`: check any number of files of any kind, collecting every problem.
import {existsSync, statSync, readdirSync} from 'node:fs'
import path from 'node:path'
import type {Diagnostic} from './diagnostics.js'
import {validateFile, type KindName} from './schema/kinds.js'

export interface ValidateResult {
  files: {file: string; kind: string | null; errors: number; warnings: number}[]
  diagnostics: Diagnostic[]
  errors: number
  warnings: number
}

/** Expands directories to the YAML/JSON files in them (a plan directory: inventory, plan, settings, journal). */
export function expandFiles(inputs: string[]): string[] {
  const out: string[] = []
  for (const f of inputs) {
    if (existsSync(f) && statSync(f).isDirectory()) {
      for (const name of readdirSync(f).sort()) if (/\.(ya?ml|json|journal)$/.test(name)) out.push(path.join(f, name))
    } else out.push(f)
  }
  return out
}

export function validateFiles(inputs: string[], kind?: KindName): ValidateResult {
  const files: ValidateResult['files'] = []
  const diagnostics: Diagnostic[] = []
  for (const file of expandFiles(inputs)) {
    const r = validateFile(file, kind)
    const errors = r.diagnostics.filter((d) => d.severity === 'error').length
    files.push({file, kind: r.kind ?? null, errors, warnings: r.diagnostics.length - errors})
    diagnostics.push(...r.diagnostics)
  }
  const errors = diagnostics.filter((d) => d.severity === 'error').length
  return {files, diagnostics, errors, warnings: diagnostics.length - errors}
}
