// Shapes shared by every file kind. zod is the single source of truth: TypeScript types are inferred from these,
// and the JSON Schema for editors is generated from them (`migrate schema`).
import {z} from 'zod'
import {calendarDateProblem} from './calendar-date.js'

export const API_VERSION = 'migrate/v1' as const

/** A name usable as an id and in file names: lower-case letters, digits, '-', '_', '.'. */
export const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'ids use letters, digits and . _ : / - and start with a letter or digit')

export const IsoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
  .refine((d) => !/^\d{4}-\d{2}-\d{2}$/.test(d) || calendarDateProblem(d) === undefined, {error: (i) => `not a real date: ${calendarDateProblem(String(i.input))}`})
export const IsoDateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/, 'a date-time as YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]')
export const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day as HH:MM (24h)')

export const Strategy = z.enum(['rehost', 'replatform', 'refactor', 'repurchase', 'relocate', 'retain', 'retire'])
export type Strategy = z.infer<typeof Strategy>

export const Criticality = z.enum(['low', 'medium', 'high', 'critical'])
export type Criticality = z.infer<typeof Criticality>

export const Environment = z.enum(['prod', 'staging', 'test', 'dev'])
export type Environment = z.infer<typeof Environment>

export const Provider = z.enum(['aws', 'alicloud', 'onprem', 'vmware', 'azure', 'gcp', 'other'])
export type Provider = z.infer<typeof Provider>

export const TargetCloud = z.enum(['aws', 'alicloud'])
export type TargetCloud = z.infer<typeof TargetCloud>

export const Tags = z.record(z.string(), z.string())

/** Durations as people write them: 90s, 5m, 2h, 1d, 500ms, or a number of seconds. */
export const Duration = z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, 'a duration such as 500ms, 30s, 5m, 2h, 1d')])
export type Duration = z.infer<typeof Duration>

export function durationMs(d: Duration): number {
  if (typeof d === 'number') return d * 1000
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(d)
  if (!m) throw new Error(`bad duration ${d}`)
  const n = Number(m[1])
  const unit = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}[m[2] as 'ms' | 's' | 'm' | 'h' | 'd']
  return n * unit
}
