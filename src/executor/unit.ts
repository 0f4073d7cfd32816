// One unit (an application, or one server of a per-server runbook) while it executes: its report, how it ends, and
// how the group runner steers it.
import type {AppWork} from './prepare.js'
import {failApp} from './rollback.js'
import type {Run} from './run.js'
import {stepKind} from './render.js'
import type {AppOutcome, AppReport, StepReport} from './types.js'

/** How the group runner steers one server's runbook (see executeGroup). */
export interface UnitControl {
  /** Stop before the first step still to do at or after this index (outcome 'held', no app-end): a barrier. */
  holdAt?: number
  /** At this finalize step: its soak and approval, then stop before its action (outcome 'held'). */
  holdAfterSoakAt?: number
  /** Soaks that passed in an earlier pass of this run, by step index: not soaked again. */
  soaked?: Map<number, Record<string, unknown>>
  /** Asked before each step and before each action: a reason to roll back instead (another server failed). */
  stop?: () => string | undefined
  /** Told first when this unit fails, before its rollback runs, so the others stop at their next step. */
  onFail?: (why: string) => void
  /** Going on after a barrier: the unit already started in this run. */
  continuing?: boolean
  /** No app-end event: the group sends it once the whole application is settled. */
  quiet?: boolean
}

export interface Unit {
  run: Run
  w: AppWork
  ctl: UnitControl
  report: AppReport
  /** The number of steps of its runbook. */
  total: number
  /** This step's report. */
  rep(id: string): StepReport
  /** Ends the unit's run with an outcome (and shows it, unless the group does). */
  finish(outcome: AppOutcome, message?: string): AppReport
  /** Stops at a barrier of its group ('held'). */
  hold(message: string): AppReport
  /** Fails the unit: rolls its completed steps back. */
  fail(why: string): Promise<AppReport>
  /** The last step's success while it is on its way to the journal (see recordSoon). */
  pending?: Promise<void>
}

export function newUnit(run: Run, w: AppWork, ctl: UnitControl): Unit {
  const t = w.template!
  const report: AppReport = {
    app: w.name,
    template: w.templateName,
    outcome: 'done',
    steps: t.steps.map((s) => ({id: s.id, kind: stepKind(s), status: 'not-run'})),
  }
  const finish = (outcome: AppOutcome, message?: string): AppReport => {
    report.outcome = outcome
    report.message = message
    if (!ctl.quiet) run.emit({type: 'app-end', app: w.name, outcome, message})
    return report
  }
  return {
    run,
    w,
    ctl,
    report,
    total: t.steps.length,
    rep: (id) => report.steps.find((x) => x.id === id)!,
    finish,
    hold: (message) => {
      report.outcome = 'held'
      report.message = message
      return report
    },
    fail: (why) => failApp(run, w, {report, finish, quiet: ctl.quiet, onFail: ctl.onFail}, why),
  }
}
