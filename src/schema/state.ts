// The plan-state journal: append-only JSON lines next to the plan (plans/<name>/state.journal). Every event carries
// who ran it and the hash of the previous event, so the journal is a tamper-evident audit trail.
import {z} from 'zod'
import {IsoDateTime} from './common.js'

export const EventType = z.enum([
  'run-started',
  'run-finished',
  'step-started',
  /** The process a step (or its rollback) runs as: pid and start time, so a resume finds it if it outlived the CLI. */
  'step-process',
  'step-succeeded',
  'step-failed',
  'step-skipped',
  'rollback-started',
  'rollback-succeeded',
  'rollback-failed',
  'gate-waiting',
  'gate-approved',
  'app-started',
  'app-finished',
  'app-failed',
  'app-rolled-back',
  'app-held',
  'operator-skip',
  'operator-retry',
  'lock-forced',
  'interrupted',
])
export type EventType = z.infer<typeof EventType>

export const JournalEvent = z.strictObject({
  seq: z.number().int().nonnegative(),
  time: IsoDateTime,
  type: EventType,
  runId: z.string(),
  wave: z.number().int().positive().optional(),
  app: z.string().optional(),
  step: z.string().optional(),
  attempt: z.number().int().positive().optional(),
  /** Dry-runs are never journaled; this marks a rollback run as opposed to execute. */
  mode: z.enum(['execute', 'rollback']).optional(),
  exitCode: z.number().int().optional(),
  /** The resolved command of a run step or rollback, secrets redacted. */
  argv: z.array(z.string()).optional(),
  /** Free-form note: why a step was skipped, who approved a gate, what a forced unlock risked. */
  message: z.string().optional(),
  durationMs: z.number().nonnegative().optional(),
  /** Last lines of output, secrets redacted. */
  output: z.string().optional(),
  error: z.string().optional(),
  check: z.record(z.string(), z.unknown()).optional(),
  /** Values a run step captured from its stdout ({{ steps.NAME }}). */
  captured: z.record(z.string(), z.string()).optional(),
  /** step-process: the step's process id and start time (/proc/PID/stat, clock ticks since boot). */
  pid: z.number().int().positive().optional(),
  startTime: z.string().optional(),
  actor: z.strictObject({user: z.string(), host: z.string(), pid: z.number().int()}),
  prev: z.string(),
  hash: z.string(),
})
export type JournalEvent = z.infer<typeof JournalEvent>
