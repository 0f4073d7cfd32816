// Turns what oclif's parser throws (a bad argument, an unknown or malformed flag) into a usage error (exit 64) whose
// one-line message says what was wrong and, for a mistyped name, what was probably meant.
import {Errors} from '@oclif/core'
import {EXIT, MigrateError, isMigrateError} from '../errors.js'
import {didYouMean} from '../suggest.js'

interface FlagSpec {
  char?: string
  hidden?: boolean
  options?: readonly string[]
}
interface ArgSpec {
  description?: string
  options?: readonly string[]
}
export interface CommandSpec {
  id?: string
  flags?: Record<string, FlagSpec>
  baseFlags?: Record<string, FlagSpec>
  args?: Record<string, ArgSpec>
  enableJsonFlag?: boolean
}

/** What the parser was reading when it failed (oclif sets `token` on the command it parses for). */
export interface ParseToken {
  arg?: string
  input?: string
  type?: string
}

/** The flags a command accepts, as typed on a command line: `--name` and `-c`. */
function flagNames(spec: CommandSpec): string[] {
  const all = {...spec.baseFlags, ...spec.flags}
  const names = Object.entries(all)
    .filter(([, f]) => !f.hidden)
    .map(([n]) => `--${n}`)
  if (spec.enableJsonFlag) names.push('--json')
  names.push('--help')
  return names
}

/** "Expected an integer greater than or equal to 1 but received: 0" → "expected an integer greater than or equal to 1". */
function reason(text: string): string {
  const r = text.replace(/\s*but received:[\s\S]*$/, '').trim()
  return r.charAt(0).toLowerCase() + r.slice(1)
}

export function usageError(err: unknown, spec: CommandSpec, token?: ParseToken): unknown {
  if (isMigrateError(err) || err instanceof Errors.ExitError || !(err instanceof Error)) return err
  const command = `migrate ${(spec.id ?? '').replaceAll(':', ' ')}`.trim()
  const hint = `See \`${command} --help\` for the arguments, flags and examples`
  const usage = (message: string, h = hint): MigrateError =>
    new MigrateError(message, {code: 'USAGE', exitCode: EXIT.BAD_INPUT, hint: h, cause: err})
  const e = err as Error & {flags?: string[]; args?: Array<{name: string; description?: string}>}
  const isCli = err instanceof Errors.CLIError
  const msg = e.message

  if (isCli && e.constructor.name === 'NonExistentFlagsError' && e.flags) {
    const names = flagNames(spec)
    const parts = e.flags.map((f) => `${f}${didYouMean(f.replace(/=.*$/, ''), names, (s) => s)}`)
    return usage(`unknown flag${parts.length === 1 ? '' : 's'} ${parts.join(', ')}`)
  }
  const parsing = /^Parsing (--[\w-]+)\s*\n\s*([\s\S]*?)(\nSee more help with --help)?$/.exec(msg)
  if (parsing) {
    const received = /but received: (.*)$/m.exec(parsing[2])?.[1]
    return usage(`${parsing[1]}${received === undefined ? '' : ` "${received}"`}: ${reason(parsing[2]).split('\n')[0]}`)
  }
  const option = /^Expected --([\w-]+)=(.*) to be one of: (.*)$/m.exec(msg)
  if (option) {
    const choices = option[3].split(', ')
    return usage(`--${option[1]} "${option[2]}" is not one of ${choices.join(', ')}${didYouMean(option[2], choices)}`)
  }
  const argOption = /^Expected (.*) to be one of: (.*)$/m.exec(msg)
  if (argOption) {
    const choices = argOption[2].split(', ')
    return usage(`"${argOption[1]}" is not one of ${choices.join(', ')}${didYouMean(argOption[1], choices)}`)
  }
  if (e.constructor.name === 'RequiredArgsError' && e.args) {
    const missing = e.args.map((a) => a.description ?? a.name).join(', ')
    return usage(`missing ${missing}`)
  }
  if (e.constructor.name === 'UnexpectedArgsError')
    return usage(msg.split('\n')[0].replace(/^Unexpected argument/, 'unexpected argument'))
  if (!isCli && token?.type === 'arg' && token.arg) {
    // An argument's own parse (Args.integer with min) failed: name the argument and what it must be.
    const what = spec.args?.[token.arg]?.description ?? token.arg
    return usage(`${what} "${token.input}": ${reason(msg)}`)
  }
  if (isCli) return usage(msg.split('\n')[0])
  return err
}
