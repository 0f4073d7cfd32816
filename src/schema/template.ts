// Runbook templates: an ordered list of steps an application runs in a wave (templates/*.yaml).
// Values are interpolated per argv element ({{ app.name }}, {{ server.ip }}, {{ env.PGPASSWORD }}, …),
// never through a shell string.
import {z} from 'zod'
import {API_VERSION, Duration, Id, Strategy} from './common.js'

/** A command as an argv list: the first element is the program. Never a shell string. */
export const Argv = z.array(z.string()).min(1)

const CheckBase = {
  /** Time allowed for one attempt of the check. */
  timeout: Duration.optional(),
}

export const HealthCheck = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('http'),
    url: z.string(),
    method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
    status: z.union([z.number().int(), z.array(z.number().int())]).default(200),
    bodyContains: z.string().optional(),
    maxLatencyMs: z.number().positive().optional(),
    ...CheckBase,
  }),
  z.strictObject({
    type: z.literal('tcp'),
    host: z.string(),
    port: z.union([z.number().int(), z.string()]),
    ...CheckBase,
  }),
  z.strictObject({
    type: z.literal('command'),
    run: Argv,
    exitCode: z.number().int().default(0),
    outputContains: z.string().optional(),
    /** A regular expression the trimmed output must match, e.g. "^0$". */
    outputMatches: z.string().optional(),
    ...CheckBase,
  }),
  z.strictObject({
    type: z.literal('sql'),
    engine: z.enum(['postgres', 'mysql', 'mariadb']),
    /** Connection URL without password; the password comes from env (passwordEnv). */
    url: z.string(),
    passwordEnv: z.string().optional(),
    query: z.string(),
    /** The first column of the first row must equal this (compared as strings). */
    expect: z.union([z.string(), z.number(), z.boolean()]).optional(),
    /** Or be at most this number. */
    max: z.number().optional(),
    ...CheckBase,
  }),
  z.strictObject({
    type: z.literal('redis'),
    url: z.string(),
    passwordEnv: z.string().optional(),
    expect: z.enum(['pong', 'master', 'replica', 'link-up']).default('pong'),
    ...CheckBase,
  }),
  z.strictObject({
    type: z.literal('replication-lag'),
    engine: z.enum(['postgres', 'mysql', 'mariadb', 'redis']),
    /** Source (primary) URL. */
    source: z.string(),
    /** Target (replica / subscriber) URL. */
    target: z.string(),
    passwordEnv: z.string().optional(),
    /** PostgreSQL: the subscription / slot name. */
    slot: z.string().optional(),
    /** Pass when the lag is at most this many bytes (postgres, redis offsets) or seconds (mysql). */
    maxLag: z.number().nonnegative().default(0),
    ...CheckBase,
  }),
])
export type HealthCheck = z.infer<typeof HealthCheck>

export const Retries = z.strictObject({
  count: z.number().int().nonnegative().default(0),
  backoff: Duration.default('1s'),
  /** Multiply the backoff by this after each attempt. */
  factor: z.number().min(1).default(2),
  /** No wait between attempts is longer than this. Each wait is jittered into the upper half of its value. */
  maxBackoff: Duration.default('5m'),
})
export type Retries = z.infer<typeof Retries>

export const Phase = z.enum([
  'prepare',
  'replicate',
  'sync',
  'test',
  'freeze',
  'final-sync',
  'cutover',
  'verify',
  'finalize',
])

const StepBase = {
  id: Id,
  description: z.string().optional(),
  phase: Phase.optional(),
  /** The compensating command, run in reverse order when the application rolls back. */
  rollback: Argv.optional(),
  timeout: Duration.optional(),
  retries: Retries.optional(),
  /** A condition; the step is skipped when it renders to "", "false", "0" or "no". */
  when: z.string().optional(),
  /** Safe to run again if it was interrupted; a non-idempotent interrupted step stops and asks the operator. */
  idempotent: z.boolean().default(false),
  /**
   * The same for the rollback command (default: as idempotent): an interrupted compensation runs again only when it
   * is safe to, else `migrate rollback` stops and asks (--skip-step: the undo took effect, --retry-step: it did not).
   */
  rollbackIdempotent: z.boolean().optional(),
  /** A point of no return (discards the way back): needs its gate, and a soak of healthy checks first. */
  finalize: z.boolean().default(false),
  /** For finalize steps: how long the soak checks must stay healthy. */
  soak: z.strictObject({duration: Duration, interval: Duration.default('5s'), check: HealthCheck}).optional(),
  /** Extra environment variables for run steps (values may use {{ }}). */
  env: z.record(z.string(), z.string()).optional(),
  /** Run in this working directory. */
  cwd: z.string().optional(),
  /** Run steps: keep the trimmed stdout as {{ steps.NAME }} for later steps (journaled, so a resume has it too). */
  capture: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a capture name: letters, digits, _')
    .optional(),
  /** With capture: a regular expression; its first group (or the whole match) is what is kept. No match fails the step. */
  capturePattern: z.string().optional(),
}

export const Step = z.union([
  z.strictObject({...StepBase, run: Argv}),
  z.strictObject({...StepBase, check: HealthCheck}),
  z.strictObject({
    ...StepBase,
    wait: z.strictObject({check: HealthCheck, interval: Duration.default('2s'), deadline: Duration.default('10m')}),
  }),
  z.strictObject({...StepBase, gate: z.strictObject({message: z.string()})}),
])
export type Step = z.infer<typeof Step>

export const RunbookTemplate = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('RunbookTemplate'),
  metadata: z.strictObject({
    name: Id,
    description: z.string().optional(),
    strategies: z.array(Strategy).default([]),
    /** Variables the template expects beyond the built-in ones, with defaults. */
    params: z.record(z.string(), z.string()).default({}),
    /**
     * One instance of the runbook per server of the application ({{ server.* }} bound to each in turn), run side by
     * side; the servers of an application cut over together (see docs/execute.md). Rehost templates set it.
     */
    perServer: z
      .boolean()
      .default(false)
      .describe(
        'Run one instance of this runbook per server of the application (APP:SERVER_ID), side by side; the servers wait for each other before the first freeze/final-sync/cutover step, and roll back together if one fails after it.',
      ),
  }),
  /** Checks run by the pre-flight before the first step of a wave (credentials work, tools answer, targets reachable). */
  preflight: z
    .array(
      z.strictObject({
        id: Id,
        description: z.string().optional(),
        check: HealthCheck,
        severity: z.enum(['blocker', 'warning', 'info']).default('blocker'),
      }),
    )
    .default([]),
  steps: z.array(Step).min(1),
})
export type RunbookTemplate = z.infer<typeof RunbookTemplate>
