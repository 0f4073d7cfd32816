// `migrate plan` as a person runs it: writing plan.yaml byte-identically, --diff with --detailed-exitcode,
// re-planning around started waves, the formats, and the errors a person gets (exit 64 with a stable code naming the
// applications). Then `migrate validate` on hand-edited plans. The commands run in this process from the sources
// (test/helpers/in-process.ts); the test of many bad inputs at once spawns the built CLI (npm test builds it first),
// which is the CLI surface itself.
import {execa} from 'execa'
import {copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {parse, parseDocument, stringify} from 'yaml'
import Plan from '../../commands/plan.js'
import Validate from '../../commands/validate.js'
import {runCommand} from '../helpers/in-process.js'

const root = path.resolve(import.meta.dirname, '../..')
const bin = path.join(root, 'bin/run.js')
const example = path.join(root, 'plans/example')
const tmp = mkdtempSync(path.join(os.tmpdir(), 'migrate-plan-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

/** The built CLI, in a process of its own. */
async function spawnMigrate(args: string[], cwd = tmp) {
  return execa(process.execPath, [bin, ...args], {cwd, reject: false, env: {MIGRATE_PLAN: ''}})
}

const COMMANDS: Record<string, Parameters<typeof runCommand>[0]> = {plan: Plan, validate: Validate}

/** `migrate <command> …` in this process. */
async function migrate(args: string[]) {
  return runCommand(COMMANDS[args[0]], args.slice(1), {MIGRATE_PLAN: ''})
}

/** The example estate cut to two servers per application: the same applications and graph, a quarter of the YAML. */
let small: string | undefined
function smallInventory(): string {
  if (small) return small
  const inv = parse(readFileSync(path.join(example, 'inventory.yaml'), 'utf8'))
  const perApp = new Map<string, number>()
  inv.servers = inv.servers.filter((s: any) => {
    const n = perApp.get(s.application) ?? 0
    perApp.set(s.application, n + 1)
    return n < 2 || s.role === 'database' || s.role === 'cache'
  })
  const ids = new Set([
    ...inv.servers.map((s: any) => s.id),
    ...inv.applications.map((a: any) => a.name),
    ...inv.databases.map((d: any) => d.id),
  ])
  inv.dependencies = inv.dependencies.filter((d: any) => ids.has(d.from) && ids.has(d.to))
  small = stringify(inv)
  return small
}

function planDir(name: string, settings?: (s: Record<string, any>) => void, full = false): string {
  const dir = path.join(tmp, name)
  rmSync(dir, {recursive: true, force: true})
  const doc = parse(readFileSync(path.join(example, 'settings.yaml'), 'utf8'))
  settings?.(doc.settings)
  mkdirSync(dir, {recursive: true})
  if (full) copyFileSync(path.join(example, 'inventory.yaml'), path.join(dir, 'inventory.yaml'))
  else writeFileSync(path.join(dir, 'inventory.yaml'), smallInventory())
  writeFileSync(path.join(dir, 'settings.yaml'), JSON.stringify(doc))
  return dir
}

describe('migrate plan', {timeout: 180_000}, () => {
  it('writes plan.yaml, byte-identical on a second run, and --diff reports no change', async () => {
    const dir = planDir('a')
    const r1 = await migrate(['plan', '--plan', dir])
    expect(r1.exitCode, r1.stderr).toBe(0)
    expect(r1.stdout).toMatch(/^wave\s+cutover \(local\)/)
    expect(r1.stdout).toContain('1 pilot')
    expect(r1.stdout).toMatch(/baseline \(by criticality, packed by capacity\): \d+ rule violations/)
    const text1 = readFileSync(path.join(dir, 'plan.yaml'), 'utf8')
    expect(text1.startsWith('# yaml-language-server: $schema=')).toBe(true)
    const r2 = await migrate(['plan', '--plan', dir])
    expect(r2.exitCode).toBe(0)
    expect(r2.stdout).toContain('unchanged')
    expect(readFileSync(path.join(dir, 'plan.yaml'), 'utf8')).toBe(text1)
    const d = await migrate(['plan', '--plan', dir, '--diff', '--detailed-exitcode'])
    expect(d.exitCode).toBe(0)
    expect(d.stdout).toContain('no changes')
    // The written plan passes validate (warnings only, e.g. templates other issues ship).
    const v = await migrate(['validate', path.join(dir, 'plan.yaml')])
    expect(v.exitCode, v.stderr).toBe(0)
  })

  it('--diff --detailed-exitcode exits 2 when flags would change the plan, and writes nothing', async () => {
    const dir = planDir('b')
    expect((await migrate(['plan', '--plan', dir])).exitCode).toBe(0)
    const before = readFileSync(path.join(dir, 'plan.yaml'), 'utf8')
    const d = await migrate(['plan', '--plan', dir, '--cadence', '7', '--diff', '--detailed-exitcode'])
    expect(d.exitCode, d.stderr).toBe(2)
    expect(d.stdout).toMatch(/would change:[\s\S]*wave \d+: dates/)
    expect(readFileSync(path.join(dir, 'plan.yaml'), 'utf8')).toBe(before)
    const j = await migrate(['plan', '--plan', dir, '--cadence', '7', '--diff', '--detailed-exitcode', '--json'])
    expect(j.exitCode).toBe(2)
    const env = JSON.parse(j.stdout)
    expect(env.status).toBe(2)
    expect(env.result.changed).toBe(true)
    expect(env.result.written).toBe(false)
  })

  it('--diff after a resize names the server and the change, and counts the applications that change wave', async () => {
    const dir = planDir('resize')
    expect((await migrate(['plan', '--plan', dir])).exitCode).toBe(0)
    const file = path.join(dir, 'inventory.yaml')
    const inv = parseDocument(readFileSync(file, 'utf8'))
    const servers = inv.get('servers') as any
    const s = servers.items.find((x: any) => x.get('application') === 'cms')
    s.set('vcpus', 32)
    s.set('memoryMiB', 131072)
    writeFileSync(file, inv.toString())
    const d = await migrate(['plan', '--plan', dir, '--diff', '--detailed-exitcode'])
    expect(d.exitCode, d.stderr).toBe(2)
    expect(d.stdout).toMatch(/would change: 0 of \d+ applications change wave/)
    expect(d.stdout).toMatch(new RegExp(`server ${s.get('id')} \\(cms\\): \\S+ → m6i\\.8xlarge`))
  })

  it('keeps waves the journal shows as started when re-planning', async () => {
    const dir = planDir('c')
    expect((await migrate(['plan', '--plan', dir])).exitCode).toBe(0)
    const first = parse(readFileSync(path.join(dir, 'plan.yaml'), 'utf8'))
    const ev = (seq: number, wave: number) =>
      JSON.stringify({
        seq,
        time: '2027-01-10T01:00:00Z',
        type: 'step-succeeded',
        runId: 'r1',
        wave,
        app: first.waves[wave - 1].applications[0],
        step: 'replicate',
        actor: {user: 'ops', host: 'h', pid: 1},
        prev: '',
        hash: 'x',
      })
    writeFileSync(path.join(dir, 'state.journal'), [ev(0, 1), ev(1, 2), '{"torn'].join('\n'))
    const r = await migrate(['plan', '--plan', dir, '--cadence', '7', '--start', '2027-01-11'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toContain('kept started waves 1, 2')
    const second = parse(readFileSync(path.join(dir, 'plan.yaml'), 'utf8'))
    for (const n of [0, 1]) {
      expect(second.waves[n].applications).toEqual(first.waves[n].applications)
      expect(second.waves[n].cutover).toEqual(first.waves[n].cutover)
    }
    expect(second.waves[2].cutover.start).not.toBe(first.waves[2].cutover.start)
  })

  it('prints markdown, a mermaid gantt chart and json', async () => {
    const dir = planDir('d')
    const md = await migrate(['plan', '--plan', dir, '--format', 'markdown'])
    expect(md.stdout).toContain('| Wave | Cutover |')
    expect(md.stdout).toContain('## Pilot: cutover 2027-01-16')
    const mm = await migrate(['plan', '--plan', dir, '--format', 'mermaid'])
    expect(mm.stdout.startsWith('gantt\n')).toBe(true)
    expect(mm.stdout).toMatch(/monthly sales event :crit, b1, 2027-01-25, 7d/)
    expect(mm.stdout).toMatch(/Cutover 01#58;00 :(crit, )?milestone, w1c, 2027-01-16, 0d/)
    const js = await migrate(['plan', '--plan', dir, '--format', 'json'])
    const out = JSON.parse(js.stdout)
    expect(out.plan.kind).toBe('Plan')
    expect(out.quality.rulesViolated).toBeLessThan(out.baseline.rulesViolated)
  })

  it('refuses bad input with exit 64 and a code that names the problem', async () => {
    const cases: [string, (s: Record<string, any>) => void, string, RegExp][] = [
      [
        'cycle',
        (s) =>
          (s.constraints = [{before: ['config-service', 'api-gateway']}, {before: ['api-gateway', 'config-service']}]),
        'CONSTRAINT_CYCLE',
        /api-gateway|config-service/,
      ],
      [
        'pin',
        (s) =>
          (s.pins = [
            {app: 'api-gateway', wave: 3},
            {app: 'user-auth', wave: 5},
          ]),
        'PIN_CONTRADICTS_ORDER',
        /"api-gateway" is pinned to wave 3, but it depends .* on "user-auth", which is pinned to wave 5/,
      ],
      [
        'pin-before',
        (s) => (s.pins = [{app: 'api-gateway', wave: 1}]),
        'PIN_CONTRADICTS_ORDER',
        /"api-gateway" is pinned to wave 1, but it must follow "config-service"/,
      ],
      [
        'deadline',
        (s) => (s.deadline = '2027-03-01'),
        'DEADLINE_UNREACHABLE',
        /after the deadline 2027-03-01; as it stands(, waves 1–\d+ cut over by 2027-03-01: \d+ of \d+ applications| no wave cuts over)/,
      ],
      ['unknown', (s) => (s.pins = [{app: 'paymnets', wave: 4}]), 'UNKNOWN_APP', /paymnets/],
      [
        'toobig',
        (s) => (s.capacity = {apps: 1, servers: 60, dataTiB: 20, critical: 2}),
        'MOVE_GROUP_TOO_BIG',
        /larger than a wave: 2 applications/,
      ],
    ]
    const runs = await Promise.all(
      cases.map(([name, edit]) => spawnMigrate(['plan', '--plan', planDir(`bad-${name}`, edit), '--json'])),
    )
    for (const [k, [name, , code, message]] of cases.entries()) {
      const dir = path.join(tmp, `bad-${name}`)
      const r = runs[k]
      expect(r.exitCode, `${name}: ${r.stdout}`).toBe(64)
      const env = JSON.parse(r.stdout)
      expect(env.error.code).toBe(code)
      expect(env.error.message).toMatch(message)
      expect(env.error.hint).toBeTruthy()
      if (name === 'cycle') {
        const human = await migrate(['plan', '--plan', dir])
        expect(human.exitCode).toBe(64)
        expect(human.stderr).toContain(`Error [${code}]`)
        expect(human.stderr).not.toMatch(/at .*\.js:\d+/)
      }
    }
    const dl = JSON.parse(runs[cases.findIndex(([name]) => name === 'deadline')].stdout)
    expect(dl.error.hint).toMatch(/meets the deadline when re-planned|No single change of a limit meets it/)
    expect(dl.error.hint).toMatch(/move the deadline to \d{4}-\d\d-\d\d/)
  }, 180_000)

  it('refuses an inventory with unassigned servers, and missing settings', async () => {
    const dir = planDir('unassigned')
    const inv = parseDocument(readFileSync(path.join(dir, 'inventory.yaml'), 'utf8'))
    const servers = inv.get('servers') as any
    servers.items[0].delete('application')
    inv.set('unassigned', [servers.items[0].get('id')])
    writeFileSync(path.join(dir, 'inventory.yaml'), inv.toString())
    const r = await migrate(['plan', '--plan', dir, '--json'])
    expect(r.exitCode).toBe(64)
    expect(JSON.parse(r.stdout).error.code).toBe('UNASSIGNED_SERVERS')
    expect(JSON.parse(r.stdout).error.message).toContain('api-gateway-lb-01')

    const bare = planDir('bare')
    rmSync(path.join(bare, 'settings.yaml'))
    const s = await migrate(['plan', '--plan', bare, '--json'])
    expect(s.exitCode).toBe(64)
    expect(JSON.parse(s.stdout).error.code).toBe('SETTINGS_REQUIRED')
    const ok = await migrate(['plan', '--plan', bare, '--start', '2027-01-04', '--timezone', 'Asia/Jakarta'])
    expect(ok.exitCode, ok.stderr).toBe(0)
    const badStart = await migrate(['plan', '--plan', bare, '--start', '4 Jan 2027', '--json'])
    expect(badStart.exitCode).toBe(64)
    // Refused at the command line, before any planning: a usage error that shows what a date looks like.
    expect(JSON.parse(badStart.stdout).error).toMatchObject({
      code: 'USAGE',
      message: '--start "4 Jan 2027": expected a date as YYYY-MM-DD',
    })
  })
})

describe('migrate validate on a hand-edited plan', {timeout: 180_000}, () => {
  it('reports capacity, split move groups, blackout cutovers, unknown apps and templates with file:line', async () => {
    const dir = planDir('edit')
    expect((await migrate(['plan', '--plan', dir])).exitCode).toBe(0)
    const file = path.join(dir, 'plan.yaml')
    const doc = parseDocument(readFileSync(file, 'utf8'))
    const plan = doc.toJS()
    const apps: any[] = plan.applications
    const idx = (name: string) => apps.findIndex((a) => a.name === name)
    // 1. Split a move group: orders leaves loyalty-points' wave.
    const orders = idx('orders')
    const group = apps[orders].moveGroup
    const mate = apps.find((a) => a.moveGroup === group && a.name !== 'orders')
    expect(mate).toBeDefined()
    const from = apps[orders].wave
    const to = plan.waves.map((w: any) => w.number).find((n: number) => n !== from && n > 1)
    doc.setIn(['applications', orders, 'wave'], to)
    const wFrom = plan.waves.findIndex((w: any) => w.number === from)
    const wTo = plan.waves.findIndex((w: any) => w.number === to)
    doc.setIn(
      ['waves', wFrom, 'applications'],
      plan.waves[wFrom].applications.filter((a: string) => a !== 'orders'),
    )
    doc.setIn(['waves', wTo, 'applications'], [...plan.waves[wTo].applications, 'orders'])
    // 2. Exceed capacity: the first prod wave gets four more applications listed (and their wave fields).
    // 3. A cutover in the sales-event blackout.
    doc.setIn(['waves', 0, 'cutover', 'start'], '2027-01-30T01:00:00+07:00')
    doc.setIn(['waves', 0, 'cutover', 'end'], '2027-01-30T05:00:00+07:00')
    // 4. An unknown application in a wave, 5. an unknown template.
    doc.setIn(['waves', 1, 'applications'], [...plan.waves[1].applications, 'paymnts'])
    doc.setIn(['applications', idx('cms'), 'template'], 'aws-mgn-rehots')
    const big = plan.waves.findIndex((w: any) => w.applications.length >= 5)
    const extra = apps
      .filter((a) => a.wave !== null && a.wave !== plan.waves[big].number && a.name !== 'orders')
      .slice(0, 3)
    const list = (p: (string | number)[]): string[] => {
      const v = doc.getIn(p) as any
      return Array.isArray(v) ? v : v.toJSON()
    }
    for (const a of extra) {
      const wi = plan.waves.findIndex((w: any) => w.number === a.wave)
      doc.setIn(
        ['waves', wi, 'applications'],
        list(['waves', wi, 'applications']).filter((n: string) => n !== a.name),
      )
      doc.setIn(['applications', idx(a.name), 'wave'], plan.waves[big].number)
    }
    doc.setIn(['waves', big, 'applications'], [...list(['waves', big, 'applications']), ...extra.map((a) => a.name)])
    writeFileSync(file, doc.toString())
    const text = readFileSync(file, 'utf8').split('\n')
    const r = await migrate(['validate', file])
    expect(r.exitCode).toBe(64)
    const lines = r.stderr.split('\n')
    const find = (code: string) => lines.find((l) => l.includes(`error ${code}`))
    for (const code of [
      'MOVE_GROUP_SPLIT',
      'CAPACITY_EXCEEDED',
      'CUTOVER_IN_BLACKOUT',
      'UNKNOWN_APP',
      'UNKNOWN_TEMPLATE',
    ])
      expect(find(code), `${code} in\n${r.stderr}`).toBeDefined()
    // Each error points at the line that holds what is wrong.
    const at = (code: string) => {
      const m = /plan\.yaml:(\d+):(\d+): error/.exec(find(code)!)
      return text[Number(m![1]) - 1]
    }
    expect(at('CUTOVER_IN_BLACKOUT')).toContain('2027-01-30T01:00:00+07:00')
    expect(find('CUTOVER_IN_BLACKOUT')).toContain('monthly sales event')
    expect(at('UNKNOWN_TEMPLATE')).toContain('aws-mgn-rehots')
    expect(find('UNKNOWN_TEMPLATE')).toContain('Did you mean "aws-mgn-rehost"')
    expect(at('UNKNOWN_APP')).toContain('paymnts')
    expect(find('UNKNOWN_APP')).toContain('Did you mean "payments"')
    expect(find('MOVE_GROUP_SPLIT')).toContain(mate.name)
    expect(at('MOVE_GROUP_SPLIT')).toMatch(/wave: \d+/)
    expect(find('CAPACITY_EXCEEDED')).toMatch(/applications \(capacity.apps 6\)|servers \(capacity.servers 60\)/)
  })
})
