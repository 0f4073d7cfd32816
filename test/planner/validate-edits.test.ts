// `migrate validate` on hand edits of plans/example/plan.yaml, as a person would make them in an editor: every edit
// that breaks a promise of the planner is an error located on the line that holds it; the unedited plan passes.
// The edits go through the `yaml` library's document API (comments and layout kept), then the file is validated as
// the CLI does (validateFiles), with the example's inventory beside it.
import {copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Validate from '../../commands/validate.js'
import {runCommand} from '../helpers/in-process.js'
import {afterAll, describe, expect, it} from 'vitest'
import {parse, parseDocument, type Document} from 'yaml'
import {validateFiles} from '../../src/validate.js'

const root = path.resolve(import.meta.dirname, '../..')
const example = path.join(root, 'plans/example')
const tmp = mkdtempSync(path.join(os.tmpdir(), 'migrate-validate-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))
const original = readFileSync(path.join(example, 'plan.yaml'), 'utf8')
const plan = parse(original)
const appAt = (name: string) => plan.applications.findIndex((a: {name: string}) => a.name === name)
const waveAt = (n: number) => plan.waves.findIndex((w: {number: number}) => w.number === n)
const waveOfApp = (name: string) => plan.applications[appAt(name)].wave as number

let count = 0
/** Writes the edited plan beside a copy of the inventory and validates it; returns the diagnostics with their line text. */
function validateEdit(edit: (doc: Document) => void, opts: {withInventory?: boolean; journal?: string} = {}) {
  const dir = path.join(tmp, `e${++count}`)
  mkdirSync(dir, {recursive: true})
  if (opts.withInventory !== false) copyFileSync(path.join(example, 'inventory.yaml'), path.join(dir, 'inventory.yaml'))
  if (opts.journal) writeFileSync(path.join(dir, 'state.journal'), opts.journal)
  const doc = parseDocument(original)
  edit(doc)
  const file = path.join(dir, 'plan.yaml')
  writeFileSync(file, doc.toString())
  const lines = readFileSync(file, 'utf8').split('\n')
  const r = validateFiles([file])
  return r.diagnostics.map((d) => ({...d, text: d.line ? lines[d.line - 1] : ''}))
}

function moveApp(doc: Document, name: string, to: number) {
  const from = waveOfApp(name)
  const list = (n: number) => (doc.getIn(['waves', waveAt(n), 'applications']) as {toJSON(): string[]}).toJSON()
  doc.setIn(
    ['waves', waveAt(from), 'applications'],
    list(from).filter((a) => a !== name),
  )
  if (to !== null) doc.setIn(['waves', waveAt(to), 'applications'], [...list(to), name])
  doc.setIn(['applications', appAt(name), 'wave'], to)
}

const errors = (ds: ReturnType<typeof validateEdit>) => ds.filter((d) => d.severity === 'error')

/** [what a person did, the edit, the code expected, text the located line must hold] */
const EDITS: [string, (doc: Document) => void, string, string | RegExp][] = [
  [
    'moved a cutover to a Monday afternoon',
    (d) => {
      d.setIn(['waves', 3, 'cutover', 'start'], '2027-03-22T14:00:00+07:00')
      d.setIn(['waves', 3, 'cutover', 'end'], '2027-03-22T18:00:00+07:00')
      d.setIn(['waves', 3, 'test', 'end'], '2027-03-22T14:00:00+07:00')
    },
    'CUTOVER_OUTSIDE_WINDOW',
    '2027-03-22T14:00:00+07:00',
  ],
  [
    'stretched a cutover past its window (05:00 → 07:00)',
    (d) => d.setIn(['waves', 0, 'cutover', 'end'], '2027-01-16T07:00:00+07:00'),
    'CUTOVER_OUTSIDE_WINDOW',
    '2027-01-16T01:00:00+07:00',
  ],
  [
    'moved the cutover to Saturday at noon',
    (d) => {
      d.setIn(['waves', 1, 'cutover', 'start'], '2027-02-06T12:00:00+07:00')
      d.setIn(['waves', 1, 'cutover', 'end'], '2027-02-06T16:00:00+07:00')
    },
    'CUTOVER_OUTSIDE_WINDOW',
    '2027-02-06T12:00:00+07:00',
  ],
  [
    'moved the last cutover after the deadline',
    (d) => {
      const i = plan.waves.length - 1
      d.setIn(['waves', i, 'cutover', 'start'], '2027-08-07T01:00:00+07:00')
      d.setIn(['waves', i, 'cutover', 'end'], '2027-08-07T05:00:00+07:00')
    },
    'AFTER_DEADLINE',
    '2027-08-07T01:00:00+07:00',
  ],
  [
    'started replication before the start date',
    (d) => d.setIn(['waves', 0, 'replicationStart'], '2027-01-02T09:00:00+07:00'),
    'BEFORE_START_DATE',
    '2027-01-02T09:00:00+07:00',
  ],
  [
    'swapped the dates of waves 5 and 6',
    (d) => {
      for (const k of ['replicationStart']) {
        const a = d.getIn(['waves', 4, k])
        d.setIn(['waves', 4, k], d.getIn(['waves', 5, k]))
        d.setIn(['waves', 5, k], a)
      }
      for (const k of ['test', 'cutover']) {
        const a = (d.getIn(['waves', 4, k]) as {toJSON(): unknown}).toJSON()
        d.setIn(['waves', 4, k], (d.getIn(['waves', 5, k]) as {toJSON(): unknown}).toJSON())
        d.setIn(['waves', 5, k], a)
      }
    },
    'WAVES_OUT_OF_DATE_ORDER',
    plan.waves[4].cutover.start,
  ],
  [
    'moved a cutover one week earlier (still a Saturday window)',
    (d) => {
      d.setIn(['waves', 2, 'cutover', 'start'], '2027-02-13T01:00:00+07:00')
      d.setIn(['waves', 2, 'cutover', 'end'], '2027-02-13T05:00:00+07:00')
      d.setIn(['waves', 2, 'test', 'end'], '2027-02-13T01:00:00+07:00')
      d.setIn(['waves', 2, 'test', 'start'], '2027-02-06T09:00:00+07:00')
      d.setIn(['waves', 2, 'replicationStart'], '2027-02-05T09:00:00+07:00')
    },
    'WAVE_CADENCE',
    '2027-02-13T01:00:00+07:00',
  ],
  [
    'started testing after the cutover',
    (d) => d.setIn(['waves', 1, 'test', 'start'], '2027-02-07T09:00:00+07:00'),
    'WAVE_DATES_OUT_OF_ORDER',
    '2027-02-07T09:00:00+07:00',
  ],
  [
    'started replication after the cutover',
    (d) => d.setIn(['waves', 2, 'replicationStart'], '2027-02-21T09:00:00+07:00'),
    'WAVE_DATES_OUT_OF_ORDER',
    '2027-02-21T09:00:00+07:00',
  ],
  [
    'ended the cutover before it starts',
    (d) => d.setIn(['waves', 0, 'cutover', 'end'], '2027-01-16T00:30:00+07:00'),
    'WAVE_DATES_OUT_OF_ORDER',
    '2027-01-16T00:30:00+07:00',
  ],
  [
    'ended testing before it starts',
    (d) => d.setIn(['waves', 0, 'test', 'end'], '2027-01-09T08:00:00+07:00'),
    'WAVE_DATES_OUT_OF_ORDER',
    '2027-01-09T08:00:00+07:00',
  ],
  [
    'wrote an impossible date (2027-02-31)',
    (d) => d.setIn(['waves', 1, 'cutover', 'start'], '2027-02-31T01:00:00+07:00'),
    'SCHEMA_CUSTOM',
    '2027-02-31T01:00:00+07:00',
  ],
  [
    'wrote an impossible time (24:30)',
    (d) => d.setIn(['waves', 1, 'cutover', 'end'], '2027-02-06T24:30:00+07:00'),
    'SCHEMA_CUSTOM',
    '2027-02-06T24:30:00+07:00',
  ],
  [
    'wrote an impossible start date (2027-02-29)',
    (d) => d.setIn(['settings', 'startDate'], '2027-02-29'),
    'SCHEMA_CUSTOM',
    'startDate: 2027-02-29',
  ],
  [
    'wrote an impossible blackout day (2027-04-31)',
    (d) => d.setIn(['settings', 'blackouts', 1, 'to'], '2027-04-31'),
    'SCHEMA_CUSTOM',
    '2027-04-31',
  ],
  [
    'wrote the cutover with the wrong offset (+08:00 in Jakarta)',
    (d) => d.setIn(['waves', 0, 'cutover', 'start'], '2027-01-16T01:00:00+08:00'),
    'TIME_NOT_LOCAL',
    '2027-01-16T01:00:00+08:00',
  ],
  [
    'wrote the cutover in UTC',
    (d) => {
      d.setIn(['waves', 0, 'cutover', 'start'], '2027-01-15T18:00:00Z')
    },
    'TIME_NOT_LOCAL',
    '2027-01-15T18:00:00Z',
  ],
  [
    'dropped an app by setting its wave to null',
    (d) => moveApp(d, 'cms', null as unknown as number),
    'APP_DROPPED',
    /wave: null/,
  ],
  [
    'set an app wave to null but left it listed',
    (d) => d.setIn(['applications', appAt('wishlist'), 'wave'], null),
    'APP_DROPPED',
    /wave: null/,
  ],
  [
    'deleted an application entry and its listing',
    (d) => {
      const w = waveOfApp('chat')
      d.setIn(
        ['waves', waveAt(w), 'applications'],
        plan.waves[waveAt(w)].applications.filter((a: string) => a !== 'chat'),
      )
      d.deleteIn(['applications', appAt('chat')])
    },
    'APP_MISSING',
    /^applications:/,
  ],
  [
    'moved a dependency after its user (user-auth to the last wave)',
    (d) => moveApp(d, 'user-auth', plan.waves.at(-1).number),
    'DEPENDENCY_ORDER',
    /wave: \d+/,
  ],
  [
    'moved an app before its dependency (api-gateway to wave 5)',
    (d) => moveApp(d, 'api-gateway', 5),
    'DEPENDENCY_ORDER',
    /wave: 5/,
  ],
  [
    "broke the before constraint (config-service into api-gateway's wave)",
    (d) => moveApp(d, 'config-service', waveOfApp('api-gateway')),
    'BEFORE_CONSTRAINT',
    /wave: \d+/,
  ],
  [
    'cut over inside the Lebaran blackout',
    (d) => {
      d.setIn(['waves', 3, 'cutover', 'start'], '2027-03-13T01:00:00+07:00')
      d.setIn(['waves', 3, 'cutover', 'end'], '2027-03-13T05:00:00+07:00')
      d.setIn(['waves', 3, 'test', 'end'], '2027-03-13T01:00:00+07:00')
    },
    'CUTOVER_IN_BLACKOUT',
    '2027-03-13T01:00:00+07:00',
  ],
  [
    'cut over inside the monthly sales event',
    (d) => {
      d.setIn(['waves', 0, 'cutover', 'start'], '2027-01-30T01:00:00+07:00')
      d.setIn(['waves', 0, 'cutover', 'end'], '2027-01-30T05:00:00+07:00')
    },
    'CUTOVER_IN_BLACKOUT',
    '2027-01-30T01:00:00+07:00',
  ],
  [
    "changed the time zone in the plan's settings",
    (d) => d.setIn(['settings', 'timezone'], 'America/New_York'),
    'TIME_NOT_LOCAL',
    '+07:00',
  ],
  [
    'narrowed the cutover windows to Sundays',
    (d) => d.setIn(['settings', 'cutoverWindows', 0, 'days'], ['sun']),
    'CUTOVER_OUTSIDE_WINDOW',
    /start: 2027/,
  ],
  ['listed waves out of number order', (d) => d.setIn(['waves', 2, 'number'], 2), 'WAVE_NUMBER_ORDER', /number: 2/],
  [
    'pinned an app, then moved it elsewhere',
    (d) => d.setIn(['settings', 'pins'], [{app: 'cms', wave: 1}]),
    'PIN_BROKEN',
    /wave: \d+/,
  ],
  [
    'split a move group (orders without loyalty-points)',
    (d) => moveApp(d, 'orders', waveOfApp('orders') + 1),
    'MOVE_GROUP_SPLIT',
    /wave: \d+/,
  ],
  [
    'moved the deadline before the last wave',
    (d) => d.setIn(['settings', 'deadline'], plan.waves.at(-2).cutover.start.slice(0, 10)),
    'AFTER_DEADLINE',
    plan.waves.at(-1).cutover.start,
  ],
  [
    'moved the start date after the first wave began',
    (d) => d.setIn(['settings', 'startDate'], '2027-01-10'),
    'BEFORE_START_DATE',
    plan.waves[0].replicationStart,
  ],
  [
    'raised the cadence to three weeks without re-planning',
    (d) => d.setIn(['settings', 'waveCadenceDays'], 21),
    'WAVE_CADENCE',
    /start: 2027/,
  ],
  [
    'added a change-freeze day on a planned cutover',
    (d) =>
      d.setIn(
        ['settings', 'blackouts'],
        [...plan.settings.blackouts, {name: 'audit day', dates: [plan.waves[4].cutover.start.slice(0, 10)]}],
      ),
    'CUTOVER_IN_BLACKOUT',
    plan.waves[4].cutover.start,
  ],
  [
    'added a weekly blackout on the cutover weekday',
    (d) => d.setIn(['settings', 'blackouts'], [{name: 'no weekend changes', weekly: {days: ['sat']}}]),
    'CUTOVER_IN_BLACKOUT',
    /start: 2027/,
  ],
  [
    'moved a whole wave one week later into the sales event',
    (d) => {
      const shift = (iso: string) =>
        iso.replace(/^2027-01-(\d\d)/, (_, dd) => `2027-01-${String(Number(dd) + 14).padStart(2, '0')}`)
      d.setIn(['waves', 0, 'replicationStart'], shift(plan.waves[0].replicationStart))
      d.setIn(['waves', 0, 'test'], {start: shift(plan.waves[0].test.start), end: shift(plan.waves[0].test.end)})
      d.setIn(['waves', 0, 'cutover'], {
        start: shift(plan.waves[0].cutover.start),
        end: shift(plan.waves[0].cutover.end),
      })
    },
    'CUTOVER_IN_BLACKOUT',
    '2027-01-30T01:00:00+07:00',
  ],
  [
    'pinned an app not before a date after its wave',
    (d) => d.setIn(['settings', 'pins'], [{app: 'api-gateway', notBefore: '2027-12-01'}]),
    'PIN_BROKEN',
    /wave: \d+/,
  ],
  [
    'wrote a cutover time as "2027-01-16 01:00" (no T)',
    (d) => d.setIn(['waves', 0, 'cutover', 'start'], '2027-01-16 01:00'),
    'SCHEMA_INVALID_FORMAT',
    '2027-01-16 01:00',
  ],
  [
    'wrote an unknown time zone',
    (d) => d.setIn(['settings', 'timezone'], 'Asia/Djakarta'),
    'BAD_TIMEZONE',
    'Asia/Djakarta',
  ],
]

describe('migrate validate on hand edits of the example plan', () => {
  it('passes the plan as the planner wrote it', () => {
    expect(errors(validateEdit(() => {}))).toEqual([])
  })

  it.each(EDITS.map(([what, edit, code, holds]) => [`${what} → ${code}`, edit, code, holds] as const))(
    '%s',
    (_what, edit, code, lineHolds) => {
      const ds = validateEdit(edit)
      const found = errors(ds).filter((d) => d.code === code)
      expect(
        found.length,
        `${code} expected; got ${JSON.stringify(
          errors(ds).map((d) => [d.code, d.line, d.message]),
          null,
          1,
        )}`,
      ).toBeGreaterThan(0)
      const located = found[0]
      expect(located.file.endsWith('plan.yaml')).toBe(true)
      expect(located.line).toBeGreaterThan(0)
      if (typeof lineHolds === 'string') expect(located.text).toContain(lineHolds)
      else expect(located.text).toMatch(lineHolds)
    },
  )

  it("keeps a started wave's dates: settings changed since are warnings for it, errors for the others", () => {
    const edit = (d: Document) => d.setIn(['settings', 'cutoverWindows', 0, 'start'], '02:00')
    const ds = validateEdit(edit, {
      journal: `${JSON.stringify({wave: 1, type: 'step', at: '2027-01-16T01:00:00+07:00'})}\n`,
    })
    expect(
      ds.filter((d) => d.code === 'CUTOVER_OUTSIDE_WINDOW' && d.severity === 'warning').map((d) => d.message)[0],
    ).toMatch(/^wave 1 .*has started/)
    expect(errors(ds).filter((d) => d.code === 'CUTOVER_OUTSIDE_WINDOW').length).toBe(plan.waves.length - 1)
  })

  it('without the inventory still catches what the plan alone shows', () => {
    const ds = validateEdit(
      (d) => {
        moveApp(d, 'cms', null as unknown as number)
        moveApp(d, 'config-service', waveOfApp('api-gateway'))
      },
      {withInventory: false},
    )
    expect(
      errors(ds)
        .map((d) => d.code)
        .sort(),
    ).toEqual(['APP_DROPPED', 'BEFORE_CONSTRAINT'])
  })
})

describe('migrate validate with nothing to validate', () => {
  // In this process, from the sources (test/helpers/in-process.ts); paths are relative to the repository (the cwd).
  const run = (...args: string[]) => runCommand(Validate, args)

  it('fails on an empty directory, naming it, with exit 64 and no stack trace', async () => {
    const empty = path.join(tmp, 'empty')
    mkdirSync(empty, {recursive: true})
    writeFileSync(path.join(empty, 'README.md'), '# notes\n')
    const r = await run(empty)
    expect(r.exitCode).toBe(64)
    expect(r.stderr).toContain('NOTHING_TO_VALIDATE')
    expect(r.stderr).toContain(empty)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    const j = await run(empty, '--json')
    expect(JSON.parse(j.stdout).error.code).toBe('NOTHING_TO_VALIDATE')
  })

  it('fails on a parent of plan directories and names them', async () => {
    const r = await run('plans')
    expect(r.exitCode).toBe(64)
    expect(r.stderr).toMatch(/migrate validate plans\/demo plans\/example/)
  })

  it('fails when one of several directories is empty, even if the others have files', async () => {
    const empty = path.join(tmp, 'empty2')
    mkdirSync(empty, {recursive: true})
    const r = await run('plans/example', empty)
    expect(r.exitCode).toBe(64)
    expect(r.stderr).toContain(empty)
  })
})
