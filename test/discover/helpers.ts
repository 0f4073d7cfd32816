// Shared by the discover suites: run the built CLI as a user would, in a temp directory.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {execa} from 'execa'

export const ROOT = path.resolve(__dirname, '../..')
export const BIN = path.join(ROOT, 'bin/run.js')

export function tempDir(prefix = 'migrate-discover-'): {dir: string; cleanup: () => void} {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  return {dir, cleanup: () => rmSync(dir, {recursive: true, force: true})}
}

/** Runs `migrate …` with only the environment given (plus PATH and a throwaway HOME), never the caller's credentials. */
export async function migrate(args: string[], env: Record<string, string> = {}, cwd = ROOT) {
  const home = env.HOME ?? mkdtempSync(path.join(tmpdir(), 'migrate-home-'))
  try {
    const r = await execa('node', [BIN, ...args], {cwd, reject: false, extendEnv: false, env: {PATH: process.env.PATH ?? '', HOME: home, AWS_EC2_METADATA_DISABLED: 'true', ...env}})
    return {exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), firstLine: String(r.stderr).split('\n')[0]}
  } finally {
    if (!env.HOME) rmSync(home, {recursive: true, force: true})
  }
}
