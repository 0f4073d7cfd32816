// Flags of a domain type, shared by commands: parsed and refused at the command line, before any work starts.
import {Flags} from '@oclif/core'
import {flagDuration} from '../db/connect.js'
import {calendarDateProblem} from '../schema/calendar-date.js'

/** A calendar date as YYYY-MM-DD that exists (2027-02-30 and 2027-13-01 are refused with the reason). */
export const dateFlag = Flags.custom<string>({
  helpValue: 'YYYY-MM-DD',
  async parse(input: string): Promise<string> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(input)) throw new Error(`Expected a date as YYYY-MM-DD but received: ${input}`)
    const problem = calendarDateProblem(input)
    if (problem) throw new Error(`Expected a real date as YYYY-MM-DD (${problem}) but received: ${input}`)
    return input
  },
})

/** --state URL: the state backend (postgres://…, or file), over $MIGRATE_STATE and the plan's settings.state. */
export const stateFlag = Flags.string({
  description:
    'state backend: postgres://USER@HOST:PORT/DB or postgres:///?service=NAME shared by every runner (password from PGPASSWORD, ~/.pgpass or the service file), or file (default: $MIGRATE_STATE, settings.state, else the journal beside the plan)',
  helpValue: 'URL',
})

/** --lock-timeout DURATION: how long execute/rollback wait for a locked plan or unit (0: exit 4 at once). */
export const lockTimeoutFlag = Flags.custom<number>({
  helpValue: 'DURATION',
  description:
    'wait up to this long (30s, 5m, 1h) for a plan (or, with a shared backend, a unit) another run holds, instead of exiting 4 at once; the wait says who holds it',
  default: 0,
  async parse(input: string): Promise<number> {
    // The db commands' duration flags' reading (500ms, 30s, 5m, 1h; a bare number is seconds), worded as oclif's.
    try {
      return flagDuration(input, 'lock-timeout')
    } catch {
      throw new Error(`Expected a duration such as 30s, 5m or 1h but received: ${input}`)
    }
  },
})
