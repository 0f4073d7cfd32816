// Whether a YYYY-MM-DD string names a day that exists: 2027-13-01 and 2027-02-30 match the pattern but are no date.
// One check for the schema (files) and the CLI (flags), so both refuse the same strings with the same words.

/** Why `text` is not a real calendar date as YYYY-MM-DD, or undefined when it is one. */
export function calendarDateProblem(text: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text)
  if (!m) return 'a date is written YYYY-MM-DD'
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (month < 1 || month > 12) return `there is no month ${m[2]}`
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate()
  if (day < 1 || day > days) return `${m[1]}-${m[2]} has ${days} days`
  return undefined
}
