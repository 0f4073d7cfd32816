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

/**
 * An application name: also an id in unit names (APP:SERVER_ID), step references (APP/STEP) and paths runbooks build
 * (<plan>/demo-work/APP): letters, digits, '.', '_', '-', starting with a letter or digit.
 */
export const AppName = z
  .string()
  .min(1)
  .max(128)
  // Without "/" a name is one path segment, and starting with a letter or digit it is never "." or "..".
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'application names use letters, digits and . _ - and start with a letter or digit (no "/", ":" or spaces: the name is used as an id and in paths)',
  )

export const IsoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
  .refine((d) => !/^\d{4}-\d{2}-\d{2}$/.test(d) || calendarDateProblem(d) === undefined, {
    error: (i) => `not a real date: ${calendarDateProblem(String(i.input))}`,
  })

/** Why a date-time's time of day or offset cannot be (24:30, +25:00), if it cannot. */
function impossibleTime(iso: string): string | undefined {
  const m = /T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(iso)
  if (m && (Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3] ?? 0) > 59))
    return `"${iso}" is not a time of day: hours go to 23, minutes and seconds to 59`
  const off = /([+-])(\d{2}):(\d{2})$/.exec(iso)
  if (off && (Number(off[2]) > 14 || Number(off[3]) > 59))
    return `"${iso}" has no valid UTC offset: offsets go from -12:00 to +14:00`
  return undefined
}

export const IsoDateTime = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/,
    'a date-time as YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]',
  )
  .check((ctx) => {
    if (!/^\d{4}-\d{2}-\d{2}T/.test(ctx.value)) return
    const day = calendarDateProblem(ctx.value.slice(0, 10))
    const why = day ? `"${ctx.value}" is not a real date: ${day}` : impossibleTime(ctx.value)
    if (why) ctx.issues.push({code: 'custom', message: why, input: ctx.value})
  })
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
export const Duration = z.union([
  z.number().nonnegative(),
  z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, 'a duration such as 500ms, 30s, 5m, 2h, 1d'),
])
export type Duration = z.infer<typeof Duration>

export function durationMs(d: Duration): number {
  if (typeof d === 'number') return d * 1000
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(d)
  if (!m) throw new Error(`bad duration ${d}`)
  const n = Number(m[1])
  const unit = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}[m[2] as 'ms' | 's' | 'm' | 'h' | 'd']
  return n * unit
}
