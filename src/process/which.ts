// Is a program runnable: an executable path, or an executable file in a PATH directory.
import {accessSync, constants, statSync} from 'node:fs'
import path from 'node:path'

/** Is `program` runnable: an executable path, or found on PATH. */
export function whichProgram(program: string, envPath = process.env.PATH ?? ''): boolean {
  const ok = (p: string): boolean => {
    try {
      if (!statSync(p).isFile()) return false
      accessSync(p, constants.X_OK)
      return true
    } catch {
      return false
    }
  }
  if (program.includes('/')) return ok(program)
  return envPath.split(path.delimiter).some((dir) => dir && ok(path.join(dir, program)))
}
