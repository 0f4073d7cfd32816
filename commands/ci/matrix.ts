import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.js'
import {resolvePlanDir} from '../../src/cli/plan-dir.js'
import {stateFlag} from '../../src/cli/flags.js'
import {withPlanBackend} from '../../src/plan-backend.js'
import {type CiMatrix, ciMatrix, type MatrixFormat, type MatrixPer} from '../../src/executor/ci-matrix.js'

export default class CiMatrixCommand extends BaseCommand {
  static override summary = "Print a wave's units as a CI matrix, one parallel job per unit."
  static override description =
    `For a GitHub Actions \`strategy.matrix: \${{ fromJSON(needs.units.outputs.matrix) }}\` (--format github: {"unit": [...]}) or a GitLab \`parallel:matrix\` (--format gitlab: [{"UNIT": [...]}]). Each job runs \`migrate execute wave N --app UNIT\` against a shared state backend (--state / MIGRATE_STATE), which keeps one journal and locks each unit. --per app (default): one job per application (with its database units and all its servers); --per server: one job per unit (APP:SERVER_ID, APP:DATABASE_ID): the servers of an application then meet at their cutover barrier through the backend. The matrix alone is printed on stdout (with --json, inside the envelope).`
  static override flags = {
    plan: Flags.string({description: 'plan directory (default: $MIGRATE_PLAN, or the only one under ./plans)'}),
    wave: Flags.integer({description: 'wave number', required: true, min: 1}),
    per: Flags.string({description: 'one job per application or per unit', options: ['app', 'server'], default: 'app'}),
    format: Flags.string({description: 'matrix shape', options: ['github', 'gitlab'], default: 'github'}),
    state: stateFlag,
  }
  static override examples = [
    '<%= config.bin %> ci matrix --plan plans/example --wave 2',
    '<%= config.bin %> ci matrix --plan plans/example --wave 2 --per server --format gitlab',
  ]

  async run(): Promise<CiMatrix> {
    const {flags} = await this.parse(CiMatrixCommand)
    const dir = resolvePlanDir(flags.plan)
    // The journal, where the wave's units are kept: which waves started, which applications run as one unit.
    const {events} = await withPlanBackend(dir, flags.state, (b) => b.read())
    const m = ciMatrix(dir, flags.wave, flags.per as MatrixPer, flags.format as MatrixFormat, events)
    if (!this.jsonEnabled()) this.log(JSON.stringify(m.matrix))
    return m
  }
}
