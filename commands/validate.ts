import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../src/cli/base-command.js'
import {badInput} from '../src/errors.js'
import {KIND_NAMES} from '../src/schema/kinds.js'
import {sharedStartedWavesOfPlans} from '../src/plan-backend.js'
import {expandFiles, validateFiles, type ValidateResult} from '../src/validate.js'

export default class Validate extends BaseCommand {
  static override summary =
    'Check inventory, plan, settings, template and state files; report every problem with file:line:column.'
  static override description =
    'The kind of each file is read from its `kind:` field (or its name); a directory stands for the files in it. Exits 0 when there are no errors, 64 when there are.'
  static override strict = false
  static override args = {file: Args.string({description: 'files or directories to check', required: true})}
  static override flags = {
    kind: Flags.option({options: KIND_NAMES, description: 'treat every file as this kind'})(),
  }
  static override examples = [
    '<%= config.bin %> validate plans/example/inventory.yaml plans/example/plan.yaml',
    '<%= config.bin %> validate plans/example',
    '<%= config.bin %> validate --kind template templates/*.yaml --json',
  ]

  async run(): Promise<ValidateResult> {
    const {argv, flags} = await this.parse(Validate)
    const files = argv as string[]
    const shared = await sharedStartedWavesOfPlans(expandFiles(files), flags.kind)
    const result = validateFiles(files, flags.kind, (f) => shared.started.get(f), shared.warnings)
    if (!this.jsonEnabled()) {
      this.printDiagnostics(result.diagnostics)
      for (const f of result.files)
        this.log(
          `${f.errors === 0 ? 'ok  ' : 'FAIL'} ${f.file} (${f.kind ?? 'unknown kind'})${f.errors ? `: ${f.errors} error(s)` : ''}${f.warnings ? `, ${f.warnings} warning(s)` : ''}`,
        )
    }
    if (result.errors > 0) {
      throw Object.assign(
        badInput(
          `${result.errors} error(s) in ${result.files.filter((f) => f.errors > 0).length} of ${result.files.length} file(s)`,
          'VALIDATION_FAILED',
          'Fix the problems listed above and run validate again',
        ),
        {data: result as unknown as Record<string, unknown>, diagnostics: this.jsonEnabled() ? result.diagnostics : []},
      )
    }
    return result
  }
}
