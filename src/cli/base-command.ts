// The one place where engine errors meet oclif: exit codes, the --json envelope, and human error text.
// Every command extends BaseCommand; no other module under src/ imports @oclif/core except src/cli/.
import {Command, Flags, Errors, type Interfaces} from '@oclif/core'
import {formatDiagnostic, sortDiagnostics, type Diagnostic} from '../diagnostics.js'
import {EXIT, isMigrateError} from '../errors.js'
import {usageError, type CommandSpec, type ParseToken} from './usage-error.js'

/** oclif's FlagOutput/ArgOutput (not exported by name). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
// biome-ignore lint/suspicious/noExplicitAny: rows/values of any shape, narrowed by the caller
type Output = {[name: string]: any}

export interface JsonEnvelope<T> {
  status: number
  result: T
  warnings: string[]
}

export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    debug: Flags.boolean({
      description: 'Show stack traces and internal detail on errors.',
      helpGroup: 'GLOBAL',
      default: false,
    }),
  }

  protected warnings: string[] = []

  /** Parse errors become usage errors (exit 64) that say what was wrong, and what was meant for a mistyped flag. */
  protected override async parse<F extends Output, B extends Output, A extends Output>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const self = this as unknown as {token?: ParseToken}
    self.token = undefined
    try {
      return await super.parse(options, argv)
    } catch (error) {
      throw usageError(error, {...(options ?? this.ctor), id: this.id} as CommandSpec, self.token)
    }
  }

  protected debugEnabled(): boolean {
    return this.argv.includes('--debug') || process.env.MIGRATE_DEBUG === '1'
  }

  protected override toSuccessJson(result: unknown): JsonEnvelope<unknown> {
    return {status: typeof process.exitCode === 'number' ? process.exitCode : 0, result, warnings: this.warnings}
  }

  /** Print diagnostics to stderr, one `file:line:col: severity CODE: message. hint` per line. */
  protected printDiagnostics(ds: Diagnostic[]): void {
    for (const d of sortDiagnostics(ds)) process.stderr.write(formatDiagnostic(d) + '\n')
  }

  // biome-ignore lint/suspicious/noExplicitAny: rows/values of any shape, narrowed by the caller
  override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<any> {
    let exit: number
    let body: {code: string; message: string; hint?: string; diagnostics?: Diagnostic[]; data?: Record<string, unknown>}
    if (isMigrateError(err)) {
      exit = err.exitCode
      body = {
        code: err.code,
        message: err.message,
        hint: err.hint,
        diagnostics: err.diagnostics.length > 0 ? sortDiagnostics(err.diagnostics) : undefined,
        data: err.data,
      }
    } else if (err instanceof Errors.ExitError) {
      throw err
    } else if (err instanceof Errors.CLIError) {
      // Flag/argument parsing problems and this.error() calls.
      exit = 'parse' in err || err.oclif?.exit === 2 || err.oclif?.exit === undefined ? EXIT.BAD_INPUT : err.oclif.exit
      body = {
        code: 'USAGE',
        message: err.message.split('\n')[0],
        hint: `See \`migrate ${this.id?.replaceAll(':', ' ') ?? ''} --help\` for the flags and examples`,
      }
    } else {
      exit = EXIT.FAILURE
      body = {
        code: 'INTERNAL',
        message: err.message || String(err),
        hint: 'This is a bug in migrate: run again with --debug and report the stack trace',
      }
    }
    if (this.jsonEnabled()) {
      process.stdout.write(JSON.stringify({status: exit, error: body, warnings: this.warnings}, null, 2) + '\n')
    } else {
      if (body.diagnostics) this.printDiagnostics(body.diagnostics)
      process.stderr.write(`Error [${body.code}]: ${body.message}${body.hint ? `\n  ${body.hint}` : ''}\n`)
      if (this.debugEnabled() && err.stack) process.stderr.write(err.stack + '\n')
    }
    this.exit(exit)
  }
}
