// The plan: waves on a calendar, per-application strategy, target mapping and runbook, with the planner's reasons.
// Written by `migrate plan` as plans/<name>/plan.yaml; reviewed in git; read by `migrate execute`.
import {z} from 'zod'
import {calendarDateProblem} from './calendar-date.js'
import {
  API_VERSION,
  AppName,
  Criticality,
  Environment,
  Id,
  IsoDate,
  IsoDateTime,
  Strategy,
  TargetCloud,
  TimeOfDay,
} from './common.js'

export const Weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])

const Environments = z.array(Environment).min(1)
const MonthDay = z
  .string()
  .regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'a day of the year as MM-DD, e.g. 12-20')
  .check((ctx) => {
    // Any leap year accepts every real MM-DD (02-29 included).
    const why = /^\d{2}-\d{2}$/.test(ctx.value) ? calendarDateProblem(`2028-${ctx.value}`) : undefined
    if (why) ctx.issues.push({code: 'custom', message: `"${ctx.value}" is not a day of the year`, input: ctx.value})
  })

/** The calendar forms a blackout may take, by the field that tells them apart; named in the error for any other. */
export const BLACKOUT_FORMS = [
  {key: 'from', shape: '{name, from: YYYY-MM-DD, to: YYYY-MM-DD} (a range of dates)'},
  {key: 'dates', shape: '{name, dates: [YYYY-MM-DD, …]} (change-freeze days)'},
  {key: 'weekly', shape: '{name, weekly: {days: [fri, …]}} (every week, e.g. every Friday)'},
  {key: 'monthly', shape: '{name, monthly: {fromDay: 25, toDay: end}} (every month)'},
  {key: 'yearly', shape: '{name, yearly: {from: "12-20", to: "01-05"}} (every year)'},
] as const

/**
 * A union of forms told apart by one field each. Any other shape gets one error that names the supported forms; a
 * recognised form with a wrong value gets that form's own first problem, with its path.
 */
function formsUnion<T extends readonly [z.ZodTypeAny, ...z.ZodTypeAny[]]>(
  what: string,
  forms: readonly {key: string; shape: string}[],
  options: T,
) {
  const supported = forms.map((f) => f.shape).join('; ')
  return z.union(options, {
    error: (issue) => {
      const input = issue.input as Record<string, unknown> | undefined
      if (input === null || typeof input !== 'object' || Array.isArray(input))
        return `${what} must be a mapping in one of these forms: ${supported}`
      const i = forms.findIndex((f) => f.key in input)
      const nested = (issue as unknown as {errors?: {path: PropertyKey[]; message: string}[][]}).errors
      if (i >= 0 && nested?.[i]?.length) {
        const problems = nested[i].map((p) => `${p.path.length ? `${p.path.map(String).join('.')}: ` : ''}${p.message}`)
        return `${what} (${forms[i].key} form) at ${problems.join('; ')}. The form is ${forms[i].shape}`
      }
      const keys = Object.keys(input).filter((k) => k !== 'name' && k !== 'environments')
      return `${what} form ${keys.length ? `with ${keys.map((k) => `"${k}"`).join(', ')}` : 'without dates'} is not supported; use one of: ${supported}`
    },
  })
}

export const Blackout = formsUnion('blackout', BLACKOUT_FORMS, [
  z.strictObject({
    name: z.string().min(1),
    /** A fixed range of dates, both inclusive. */
    from: IsoDate,
    to: IsoDate,
  }),
  z.strictObject({
    name: z.string().min(1),
    /** Single days, e.g. change-freeze days. */
    dates: z.array(IsoDate).min(1),
  }),
  z.strictObject({
    name: z.string().min(1),
    /** Every week on these days, e.g. [fri] for no cutover touching a Friday. */
    weekly: z.strictObject({days: z.array(Weekday).min(1)}),
  }),
  z.strictObject({
    name: z.string().min(1),
    /** Every month from `fromDay` to `toDay` (a day number or "end"), e.g. the 25th to month end. */
    monthly: z.strictObject({
      fromDay: z.number().int().min(1).max(31),
      toDay: z.union([z.number().int().min(1).max(31), z.literal('end')]),
    }),
  }),
  z.strictObject({
    name: z.string().min(1),
    /** Every year from `from` to `to` (MM-DD, both inclusive; may wrap over the new year), e.g. a year-end freeze. */
    yearly: z.strictObject({from: MonthDay, to: MonthDay}),
  }),
])
export type Blackout = z.infer<typeof Blackout>

/** The forms a cutover window may take (one, for now), named in the error for any other. */
export const WINDOW_FORMS = [
  {
    key: 'days',
    shape:
      '{days: [sat, …], start: "01:00", end: "05:00", environments: [prod, …]} (every week on those days; end before start crosses midnight; environments optional)',
  },
] as const

export const CutoverWindow = formsUnion('cutover window', WINDOW_FORMS, [
  z.strictObject({
    days: z.array(Weekday).min(1),
    start: TimeOfDay,
    /** May be earlier than start: the window crosses midnight. */
    end: TimeOfDay,
    /** Only waves of these environments cut over in this window (a mixed wave: only in windows open to all of its environments). Absent: every environment. */
    environments: Environments.optional(),
  }),
  // No second form yet: a union of one option would report the object's own errors, not the supported forms.
  z.never(),
])
export type CutoverWindow = z.infer<typeof CutoverWindow>

export const Capacity = z.strictObject({
  apps: z.number().int().positive().default(8),
  servers: z.number().int().positive().default(80),
  /** TiB of data replicated per wave. */
  dataTiB: z.number().positive().default(20),
  /** At most this many high/critical applications per wave. */
  critical: z.number().int().nonnegative().default(2),
})

export const Constraint = z.union([
  z.strictObject({before: z.tuple([z.string(), z.string()])}),
  z.strictObject({together: z.array(z.string()).min(2)}),
])

export const Pin = z.strictObject({
  app: z.string().min(1),
  wave: z.number().int().positive().optional(),
  notBefore: IsoDate.optional(),
})

export const Target = z.strictObject({
  cloud: TargetCloud,
  region: z.string().min(1),
})

export const StrategyRule = z.strictObject({
  /** Matches on application fields or tags, e.g. {tag: {lifecycle: retire}} or {environment: dev}. */
  match: z.strictObject({
    app: z.string().optional(),
    environment: Environment.optional(),
    criticality: Criticality.optional(),
    tag: z.record(z.string(), z.string()).optional(),
  }),
  strategy: Strategy,
  template: z.string().optional(),
})

export const RuleName = z.enum([
  'move-groups-together',
  'dependencies-first',
  'environments-not-mixed',
  'dev-before-prod',
  'critical-not-early',
  'small-early-waves',
  'capacity',
  'minimise-split-dependencies',
])

export const PlanSettings = z.strictObject({
  startDate: IsoDate,
  deadline: IsoDate.optional(),
  timezone: z.string().default('UTC'),
  waveCadenceDays: z.number().int().positive().default(14),
  cutoverWindows: z.array(CutoverWindow).default([{days: ['sat'], start: '01:00', end: '05:00'}]),
  capacity: Capacity.default({apps: 8, servers: 80, dataTiB: 20, critical: 2}),
  /** Early waves are kept small: waves 1..earlyWaves hold at most earlyServers servers. */
  ramp: z
    .strictObject({
      earlyWaves: z.number().int().nonnegative().default(3),
      earlyServers: z.number().int().positive().default(10),
    })
    .default({earlyWaves: 3, earlyServers: 10}),
  blackouts: z.array(Blackout).default([]),
  pilot: z.strictObject({apps: z.number().int().nonnegative().default(2)}).default({apps: 2}),
  pins: z.array(Pin).default([]),
  constraints: z.array(Constraint).default([]),
  target: Target.default({cloud: 'aws', region: 'ap-southeast-3'}),
  targets: z.record(z.string(), Target).default({}),
  strategyRules: z.array(StrategyRule).default([]),
  /** Replication bandwidth available to one wave, Mbit/s. */
  bandwidthMbps: z.number().positive().default(1000),
  /** Days of testing before each cutover (MGN advises testing well before cutover). */
  testDays: z.number().int().nonnegative().default(7),
  /** Ranked rules; remove one to turn it off, reorder to change priority. */
  rules: z.array(RuleName).default(RuleName.options),
  /** Where execute keeps the plan's state: absent, the journal file beside the plan; postgres://… a shared backend. */
  state: z
    .string()
    .optional()
    .describe(
      'State backend of execute/rollback/status: absent (or "file") for the journal beside the plan; postgres://USER@HOST:PORT/DATABASE or postgres:///?service=NAME for a shared backend (never with a password: it comes from PGPASSWORD, ~/.pgpass or the service file). --state and MIGRATE_STATE override it.',
    ),
})
export type PlanSettings = z.infer<typeof PlanSettings>
export type PlanSettingsInput = z.input<typeof PlanSettings>

/** A standalone settings file (`--settings FILE`). */
export const SettingsFile = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('PlanSettings'),
  settings: PlanSettings,
})

export const TimeWindow = z.strictObject({start: IsoDateTime, end: IsoDateTime})

export const Wave = z.strictObject({
  number: z.number().int().positive(),
  name: z.string(),
  pilot: z.boolean().default(false),
  environment: Environment.optional(),
  applications: z.array(z.string()),
  replicationStart: IsoDateTime,
  test: TimeWindow,
  cutover: TimeWindow,
  servers: z.number().int().nonnegative(),
  databases: z.number().int().nonnegative(),
  dataGiB: z.number().nonnegative(),
  /** Days of initial replication estimated for the wave's data (size × 0.7 / bandwidth, slowed by the change rate). */
  replicationDays: z.number().nonnegative().optional(),
  /** Dependencies between an application of this wave and one in another wave (cross-site traffic while split). */
  splitDependencies: z.number().int().nonnegative().optional(),
  risk: z.enum(['low', 'medium', 'high']),
  /** 1–5 stars, as Azure Migrate rates its assessments. */
  confidence: z.number().int().min(1).max(5),
  reasons: z.array(z.string()).default([]),
})
export type Wave = z.infer<typeof Wave>

export const ServerTarget = z.strictObject({
  id: z.string(),
  instanceType: z.string(),
  vcpus: z.number().int().positive(),
  memoryMiB: z.number().int().positive(),
  reason: z.string().optional(),
})

export const DatabaseTarget = z.strictObject({
  id: z.string(),
  /** e.g. aws:rds-postgres, aws:elasticache-redis, alicloud:polardb-mysql, alicloud:tair. */
  service: z.string(),
  instanceClass: z.string(),
  /** The runbook template that moves this database (e.g. postgres-logical-replication). */
  template: z.string().optional(),
  reason: z.string().optional(),
  /** Engine and version the managed resource must run (the source's engine; version at least the source's). */
  engine: z.string().optional(),
  version: z.string().optional(),
  /**
   * What must be set on the managed resource before its wave, for the team's infrastructure code (provisioning is
   * not migrate's): parameter-group values (rds.logical_replication, binlog_format, …) and prerequisites.
   */
  requires: z.record(z.string(), z.string()).optional(),
})

export const AppPlan = z.strictObject({
  name: AppName,
  wave: z.number().int().positive().nullable(),
  moveGroup: z.string(),
  strategy: Strategy,
  template: z.string(),
  target: Target,
  servers: z.array(ServerTarget).default([]),
  databases: z.array(DatabaseTarget).default([]),
  /** Template parameters for this application ({{ params.NAME }}): target endpoints, proxy admin ports, … Never secrets. */
  params: z.record(z.string(), z.string()).default({}),
  reasons: z.array(z.string()).default([]),
})
export type AppPlan = z.infer<typeof AppPlan>

export const Plan = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Plan'),
  metadata: z.strictObject({
    name: Id,
    /** Path of the inventory, relative to the plan file. */
    inventory: z.string(),
    /** sha256 of the inventory the plan was made from; execute refuses a plan whose inventory changed. */
    inventoryDigest: z
      .string()
      .describe(
        'What the plan was made from: content-sha256:<hex> of the inventory as the schema reads it (older plans: sha256:<hex> of the file). A different inventory makes the plan stale (exit 5).',
      ),
    plannerVersion: z.string().optional(),
  }),
  settings: PlanSettings,
  waves: z.array(Wave),
  applications: z.array(AppPlan),
  /** Quality figures: rules violated, dependency-days split across sites, waves used. */
  metrics: z.record(z.string(), z.number()).default({}),
})
export type Plan = z.infer<typeof Plan>
