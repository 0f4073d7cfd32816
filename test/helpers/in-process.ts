// Runs a migrate command in this process, from the TypeScript sources, with what a person would see: its stdout,
// stderr and exit code. For tests of what a command computes (the planner's logic); tests of the CLI surface itself
// (start-up, argv handling, exit codes under concurrency) spawn the built CLI instead. One command at a time: the
// streams are captured by swapping process.stdout/stderr.write and console.log/error (oclif logs through console)
// while it runs.
import path from 'node:path'
import {format} from 'node:util'
import type {Command} from '@oclif/core'

const ROOT = path.resolve(import.meta.dirname, '../..')

type CommandClass = typeof Command & {run: (argv: string[], root: string) => Promise<unknown>}

export interface Ran {
  exitCode: number
  stdout: string
  stderr: string
}

export async function runCommand(cmd: CommandClass, argv: string[], env: Record<string, string> = {}): Promise<Ran> {
  let stdout = ''
  let stderr = ''
  const writes = {out: process.stdout.write, err: process.stderr.write}
  const consoles = {log: console.log, error: console.error, warn: console.warn}
  console.log = (...args: unknown[]) => void (stdout += format(...args) + '\n')
  console.error = (...args: unknown[]) => void (stderr += format(...args) + '\n')
  console.warn = console.error
  const savedEnv = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  const savedExit = process.exitCode
  process.exitCode = undefined
  Object.assign(process.env, env)
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk)
    return true
  }) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk)
    return true
  }) as typeof process.stderr.write
  let exitCode: number | undefined
  try {
    await cmd.run(argv, ROOT)
  } catch (error) {
    const exit = (error as {oclif?: {exit?: number}}).oclif?.exit
    if (exit === undefined) throw error
    exitCode = exit
  } finally {
    process.stdout.write = writes.out
    process.stderr.write = writes.err
    Object.assign(console, consoles)
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  exitCode ??= typeof process.exitCode === 'number' ? process.exitCode : 0
  process.exitCode = savedExit
  return {exitCode, stdout, stderr}
}
