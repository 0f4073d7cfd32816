import {Flags} from '@oclif/core'
import {BaseCommand} from '../src/cli/base-command.js'
import {dateFlag, stateFlag} from '../src/cli/flags.js'
import {resolvePlanDir} from '../src/cli/plan-dir.js'
import {EXIT} from '../src/errors.js'
import {runPlan, type PlanResult} from '../src/plan-file.js'
import {sharedStartedWaves} from '../src/plan-backend.js'
import {qualityLine, renderMarkdown, renderMermaid, renderTable} from '../src/planner/render.js'

export default class PlanCommand extends BaseCommand {
  static override summary =
    'Plan migration waves: move groups, ranked rules, a calendar with blackouts, target sizes; writes plan.yaml.'
  static override description =
    'Reads <plan>/inventory.yaml and the settings (--settings FILE, else <plan>/settings.yaml, else the settings in plan.yaml; flags override them), plans, and writes <plan>/plan.yaml. Waves that the state journal shows as started are kept as they are. With --diff nothing is written: the changes are shown (exit 2 with --detailed-exitcode when there are any).'
  static override flags = {
    plan: Flags.string({description: 'plan directory (default: $MIGRATE_PLAN, or the only one under ./plans)'}),
    inventory: Flags.string({description: 'inventory file (default: <plan>/inventory.yaml)'}),
    settings: Flags.string({description: 'settings file (kind: PlanSettings)'}),
    format: Flags.option({
      options: ['table', 'markdown', 'mermaid', 'json'] as const,
      default: 'table' as const,
      description: 'how to print the plan',
    })(),
    diff: Flags.boolean({description: 'show what would change in plan.yaml without writing it', default: false}),
    'detailed-exitcode': Flags.boolean({
      description: 'with --diff: exit 2 when the plan would change, 0 when not',
      default: false,
    }),
    start: dateFlag({description: 'start date, YYYY-MM-DD (overrides settings.startDate)'}),
    deadline: dateFlag({description: 'last cutover no later than YYYY-MM-DD (overrides settings.deadline)'}),
    timezone: Flags.string({description: 'IANA time zone of the cutover windows, e.g. Asia/Jakarta'}),
    cadence: Flags.integer({description: 'days between waves (overrides settings.waveCadenceDays)', min: 1}),
    state: stateFlag,
  }
  static override examples = [
    '<%= config.bin %> plan --plan plans/example',
    '<%= config.bin %> plan --plan plans/example --start 2027-01-04 --deadline 2027-07-31 --format markdown > PLAN.md',
    '<%= config.bin %> plan --plan plans/example --format mermaid',
    '<%= config.bin %> plan --plan plans/example --diff --detailed-exitcode',
    '<%= config.bin %> plan --inventory inv.yaml --settings settings.yaml --plan plans/new --json',
  ]

  async run(): Promise<Omit<PlanResult, 'plan'> & {plan?: PlanResult['plan']}> {
    const {flags} = await this.parse(PlanCommand)
    const planDir = resolvePlanDir(flags.plan)
    // With a shared state backend, the waves it shows started stay where they are, as the journal file's do.
    const started = await sharedStartedWaves(planDir, flags.state)
    const r = runPlan({
      startedWaves: started,
      planDir,
      inventoryFile: flags.inventory,
      settingsFile: flags.settings,
      overrides: {
        startDate: flags.start,
        deadline: flags.deadline,
        timezone: flags.timezone,
        waveCadenceDays: flags.cadence,
      },
      dryRun: flags.diff,
    })
    if (flags.diff && flags['detailed-exitcode'] && r.changed) process.exitCode = EXIT.PENDING
    this.warnings.push(...r.warnings)
    if (!this.jsonEnabled()) {
      for (const w of r.warnings) this.logToStderr(`warning: ${w}`)
      if (flags.format === 'json')
        this.log(JSON.stringify({plan: r.plan, quality: r.quality, baseline: r.baseline, changes: r.changes}, null, 2))
      else if (flags.format === 'markdown') this.log(renderMarkdown(r.plan, r.quality, r.baseline))
      else if (flags.format === 'mermaid') this.log(renderMermaid(r.plan))
      else this.log(renderTable(r.plan, r.quality, r.baseline))
      const say = (s: string) => (flags.format === 'table' ? this.log(s) : this.logToStderr(s))
      if (flags.diff) {
        if (!r.changed) say(`\nno changes: ${r.planFile} is up to date`)
        else if (!r.previous)
          say(
            `\n${r.planFile} does not exist yet: it would be written with ${r.plan.waves.length} wave${r.plan.waves.length === 1 ? '' : 's'}`,
          )
        else {
          const ch = r.changes
          say(`\n${r.planFile} would change: ${ch.appsMoved} of ${ch.appsPlanned} applications change wave`)
          for (const c of ch.apps) say(`  ${c.app}: wave ${c.from ?? '-'} → ${c.to ?? '-'}`)
          for (const c of ch.runbooks) say(`  ${c.app}: runbook ${c.from} → ${c.to}`)
          for (const c of ch.waves)
            say(`  wave ${c.wave}: ${c.what}${c.from || c.to ? ` ${c.from ?? ''} → ${c.to ?? ''}` : ''}`)
          for (const c of ch.targets) say(`  ${c.kind} ${c.id} (${c.app}): ${c.from} → ${c.to}`)
          if (ch.apps.length === 0 && ch.waves.length === 0 && ch.runbooks.length === 0 && ch.targets.length === 0)
            say('  (details only: reasons or settings)')
        }
      } else {
        say(
          `\n${r.written ? 'wrote' : 'unchanged'} ${r.planFile} (settings from ${r.settingsFrom})${r.keptWaves.length ? `; kept started wave${r.keptWaves.length === 1 ? '' : 's'} ${r.keptWaves.join(', ')}` : ''}`,
        )
      }
      void qualityLine
    }
    return r
  }
}
