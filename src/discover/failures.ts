// When every target of a source failed (every host, every --db endpoint), the run stops with one error that names
// each target and its reason, in the order they were given. Its exit code does not depend on which one failed
// first: 64 when any failure is the user's to fix (a key, a password, a host key), since no rerun can succeed
// without that fix; 1 when all of them are outside the user's input (refused, unreachable, timed out).
import {EXIT, MigrateError} from '../errors.js'
import type {SourceFailure} from './types.js'

export interface TargetFailure extends SourceFailure {
  /** The user must change their input (credentials, key, host key) for this target to succeed. */
  badInput: boolean
}

export function everyTargetFailed(
  kind: 'ssh' | 'db',
  failures: TargetFailure[],
  hints: Record<string, string>,
): MigrateError {
  const codes = [...new Set(failures.map((f) => f.code))]
  const label = (f: TargetFailure) => `${kind === 'ssh' ? 'ssh ' : ''}${f.target}: ${f.message}`
  const what = kind === 'ssh' ? 'host' : 'database'
  const message =
    failures.length === 1
      ? label(failures[0])
      : `every ${what} failed (${failures.length}):\n${failures.map((f) => `  ${label(f)}`).join('\n')}`
  const hint = codes
    .map((c) => hints[c])
    .filter((h, i, all): h is string => h !== undefined && all.indexOf(h) === i)
    .join('\n  ')
  return new MigrateError(message, {
    code: codes.length === 1 ? codes[0] : `${kind.toUpperCase()}_ALL_FAILED`,
    exitCode: failures.some((f) => f.badInput) ? EXIT.BAD_INPUT : EXIT.FAILURE,
    hint:
      hint || (kind === 'ssh' ? 'Check that the hosts are up and sshd listens on those ports' : 'Check the endpoints'),
    data: {failures: failures.map(({target, code, message: m}) => ({target, code, message: m}))},
  })
}
