// The paths the README and docs send a newcomer down, on a copy of the demo (plans/demo), with the built CLI: a comment
// does not make the plan stale, re-planning keeps the demo's runbook and dates and --diff names what would change, the
// stale-plan hint works pasted where the user stands, a rollback after finalize says what it did with its own exit
// code, and status after a rollback does not call never-run steps rolled back.
import {execa} from 'execa'
import {appendFileSync, cpSync, existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {scratchDir} from '../helpers/scratch.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BIN = path.join(ROOT, 'bin/run.js')
let scratch: {dir: string; cleanup: () => void}
beforeAll(() => (scratch = scratchDir('documented-paths')))
afterAll(() => scratch.cleanup())

let n = 0
function demo(): string {
  const dir = path.join(scratch.dir, String(++n), 'demo')
  cpSync(path.join(ROOT, 'plans/demo'), dir, {
    recursive: true,
    filter: (f) => !/demo-work|state\.(journal|lock|head)/.test(f),
  })
  return dir
}
const migrate = (args: string[], cwd = scratch.dir) =>
  execa('node', [BIN, ...args], {reject: false, cwd, env: {NO_COLOR: '1'}})

describe('the demo plan as shipped', () => {
  it('re-planning it changes nothing: same runbook (local-demo), same dates', async () => {
    const dir = demo()
    const r = await migrate(['plan', '--plan', dir, '--diff', '--detailed-exitcode'])
    expect(r.stdout).toContain('no changes')
    expect(r.stdout).toMatch(/servers in 1 wave$/m)
    expect(r.stdout).not.toMatch(/\b1 waves\b/)
    expect(r.exitCode, r.stdout + r.stderr).toBe(0)
    const plan = readFileSync(path.join(dir, 'plan.yaml'), 'utf8')
    expect(plan.match(/^    template: local-demo$/gm)).toHaveLength(3)
    expect(plan).toMatch(/inventoryDigest: content-sha256:/)
  })

  it('a comment (or reformatting) in inventory.yaml does not make it stale', async () => {
    const dir = demo()
    appendFileSync(path.join(dir, 'inventory.yaml'), '# reviewed by ops, 2027-01-02\n')
    writeFileSync(
      path.join(dir, 'inventory.yaml'),
      readFileSync(path.join(dir, 'inventory.yaml'), 'utf8').replace(
        'owner: storefront',
        'owner: "storefront"   # the web team',
      ),
    )
    const r = await migrate(['execute', 'wave', '1', '--plan', dir, '--dry-run'])
    expect(r.exitCode, r.stderr).toBe(0)
  })

  it('plan --diff names a runbook change and a date change', async () => {
    const dir = demo()
    // As if the plan had been made before the demo's strategy rule: every app on aws-mgn-rehost, a year earlier.
    const planFile = path.join(dir, 'plan.yaml')
    writeFileSync(
      planFile,
      readFileSync(planFile, 'utf8')
        .replaceAll('template: local-demo', 'template: aws-mgn-rehost')
        .replace(/(cutover:\n\s+start: )2027/, '$12026'),
    )
    const r = await migrate(['plan', '--plan', dir, '--diff', '--detailed-exitcode'])
    expect(r.exitCode, r.stderr).toBe(2)
    for (const app of ['shop-web', 'orders-api', 'report-batch'])
      expect(r.stdout).toContain(`${app}: runbook aws-mgn-rehost → local-demo`)
    expect(r.stdout).toMatch(/wave 1: dates 2026-01-16T01:00:00Z → 2027-01-16T01:00:00Z/)
  })

  it('a start date in the past is said', async () => {
    const dir = demo()
    const r = await migrate(['plan', '--plan', dir, '--diff', '--start', '2020-01-06'])
    expect(r.stderr).toMatch(
      /warning: the plan starts in the past \(wave 1 replicates from 2020-01-\d\d, settings.startDate 2020-01-06\)/,
    )
  })
})

describe('the stale-plan hint', () => {
  it('prints commands that work pasted where the user stands', async () => {
    const dir = demo()
    writeFileSync(
      path.join(dir, 'inventory.yaml'),
      readFileSync(path.join(dir, 'inventory.yaml'), 'utf8').replace('vcpus: 4', 'vcpus: 8'),
    )
    // From the scratch directory (the plan is ./demo-N), and from inside the plan directory.
    for (const [cwd, planArg] of [
      [path.dirname(dir), 'demo'],
      [dir, '.'],
    ]) {
      const r = await migrate(['execute', 'wave', '1', '--plan', planArg, '--dry-run'], cwd)
      expect(r.exitCode).toBe(5)
      const cmds = [...r.stderr.matchAll(/`migrate ([^`]+)`/g)].map((m) => m[1])
      expect(cmds).toEqual([`plan --plan ${planArg} --diff`, `plan --plan ${planArg}`])
      for (const c of cmds) {
        const run = await migrate(c.split(' '), cwd)
        expect(run.exitCode, `${c} in ${cwd}: ${run.stderr}`).toBe(0)
      }
      const again = await migrate(['execute', 'wave', '1', '--plan', planArg, '--dry-run'], cwd)
      expect(again.exitCode, again.stderr).toBe(0)
      writeFileSync(
        path.join(dir, 'inventory.yaml'),
        readFileSync(path.join(dir, 'inventory.yaml'), 'utf8').replace('vcpus: 8', 'vcpus: 6'),
      )
    }
  })
})

describe('a gate waiting for approval', () => {
  it('says what to do after the question, in one sentence ("…? Rerun", not "…?. Rerun")', async () => {
    const dir = demo()
    const r = await migrate(['execute', 'wave', '1', '--plan', dir, '--app', 'shop-web'])
    expect(r.exitCode).toBe(6)
    expect(r.stdout).toContain(
      'waiting at approve-cutover: Cut over shop-web (owner storefront) to aws ap-southeast-3? Rerun with --approve approve-cutover (or --yes) to continue',
    )
    expect(r.stdout + r.stderr).not.toContain('?.')
  })
})

describe('rollback after a run', () => {
  it('after finalize: not rolled back, said so, exit 6; the others are rolled back; status shows never-run steps as not run', async () => {
    const dir = demo()
    expect((await migrate(['execute', 'wave', '1', '--plan', dir, '--yes'])).exitCode).toBe(6)
    const fin = await migrate(['execute', 'wave', '1', '--plan', dir, '--approve', 'finalize', '--app', 'shop-web'])
    expect(fin.exitCode, fin.stderr).toBe(0)
    const rb = await migrate(['rollback', 'wave', '1', '--plan', dir, '--json'])
    expect(rb.exitCode, rb.stderr).toBe(6)
    const apps = JSON.parse(rb.stdout).result.apps as {app: string; outcome: string; message: string}[]
    expect(apps.find((a) => a.app === 'shop-web')).toMatchObject({
      outcome: 'finalized',
      message: expect.stringMatching(
        /^finalized \(finalize is the point of no return, done .* UTC\): it stays on the target and nothing was changed/,
      ),
    })
    expect(
      apps
        .filter((a) => a.outcome === 'rolled-back')
        .map((a) => a.app)
        .sort(),
    ).toEqual(['orders-api', 'report-batch'])
    expect(existsSync(path.join(dir, 'demo-work/shop-web/finalized'))).toBe(true)
    expect(existsSync(path.join(dir, 'demo-work/orders-api'))).toBe(false)
    const st = await migrate(['status', '--plan', dir, '--json'])
    const orders = JSON.parse(st.stdout).result.waves[0].apps.find((a: {name: string}) => a.name === 'orders-api')
    const status = Object.fromEntries(orders.steps.map((s: {id: string; status: string}) => [s.id, s.status]))
    expect(orders.status).toBe('rolled-back')
    expect(status).toMatchObject({
      prepare: 'rolled-back',
      cutover: 'rolled-back',
      'verify-port': 'pending',
      finalize: 'pending',
    })
  })
})
