// The write-unavailability window of each engine as ONE step: pre-checks (while clients still write) → pause/block
// → wait until the target has everything → sync → in-pause verification of what changed → promote → reverse
// replication → repoint clients → resume. Each of these is also its own `migrate db …` command, but a process start
// costs ~0.4 s of window per step on a small machine, so the template runs them in one process here. The budget
// (window.ts) bounds every wait inside the window, and the write block is probed right before the commit point; a
// failing sub-step undoes the ones before it in reverse, so the step fails as a unit and the executor rolls back
// the earlier steps. The matching *CutoverRollback functions are the step's `rollback`: idempotent, they fail back
// without losing a write made on the target.
// The engines' cutovers live in cutover/; this module is what the commands and tests import.
export type {CutoverResult, Log, SubStep, SubStepResult, WindowLimits} from './window.js'
export {runSubSteps, WINDOW_DEFAULTS} from './window.js'
export {type CutoverCommon, forgetState} from './cutover/shared.js'
export type {PgCutoverOptions} from './cutover/pg-precheck.js'
export {pgCutover} from './cutover/postgres.js'
export {pgCutoverRollback, pgFinalize} from './cutover/pg-rollback.js'
export {mariadbCutover, mariadbCutoverRollback, type MariadbCutoverOptions} from './cutover/mariadb.js'
export {redisCutover, redisCutoverRollback, type RedisCutoverOptions} from './cutover/redis.js'
