// The commands as a person and a CI job run them (node bin/run.js, built dist/): dry-run output and exit codes,
// JUnit report, lock refusal by a second process, status and --verify, rollback of what never ran.
import {execa} from 'execa'
import {cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {makePlanDir, template} from './helpers.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BIN = path.join(ROOT, 'bin/run.js')
const cli = (args: string[], env: Record<string, string> = {}) =>
  execa('node', [BIN, ...args], {reject: false, env: {NO_COLOR: '1', ...env}})

/** A copy of the README's demo (plans/demo), without what a run there left behind. */
function demoPlan(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'migrate-cli-'))
  cpSync(path.join(ROOT, 'plans/demo'), dir, {
    recursive: true,
    filter: (f) => !/demo-work|state\.(journal|lock)/.test(f),
  })
  return dir
}

describe('migrate execute wave / rollback / status (CLI)', () => {
  it('dry-run renders every step with resolved arguments, runs nothing, journals nothing; exit codes for CI', async () => {
    const dir = demoPlan()
    const junit = path.join(dir, 'wave1.xml')
    const r = await cli(['execute', 'wave', '1', '--plan', dir, '--dry-run', '--detailed-exitcode', '--junit', junit])
    expect(r.exitCode).toBe(2)
    expect(r.stdout).toContain('Wave 1 dry-run: nothing is run, nothing is journaled.')
    expect(r.stdout).toContain(`touch ${dir}/demo-work/orders-api/replicating`)
    expect(r.stdout).toContain('gate: Cut over orders-api (owner orders) to aws ap-southeast-3?')
    expect(r.stdout).toMatch(/finalize .*needs approval: --approve finalize \(finalize: --yes does not approve it\)/)
    expect(r.stdout).toContain('verify-port')
    expect(r.stdout).toMatch(/when "\{\{ params.tcpPort \}\}" is false/)
    expect(existsSync(path.join(dir, 'state.journal'))).toBe(false)
    expect(existsSync(path.join(dir, 'demo-work'))).toBe(false)
    const xml = readFileSync(junit, 'utf8')
    expect(xml.match(/<testcase /g)).toHaveLength(30)
    expect(xml).toContain('classname="wave-1.shop-web" name="cutover"')
    // Without --detailed-exitcode a clean dry-run exits 0; --json gives the result envelope.
    const j = await cli(['execute', 'wave', '1', '--plan', dir, '--dry-run', '--json'])
    expect(j.exitCode).toBe(0)
    const env = JSON.parse(j.stdout)
    expect(env.result.mode).toBe('dry-run')
    expect(env.result.pendingSteps).toBe(27)
  })

  it('migrate validate reports an unknown template variable with the template file:line', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'migrate-cli-'))
    const file = path.join(dir, 'templates', 'typo.yaml')
    cpSync(path.join(ROOT, 'templates/local-demo.yaml'), file)
    writeFileSync(file, readFileSync(file, 'utf8').replace('(owner {{ app.owner }})', '(owner {{ app.ownr }})'))
    const line =
      readFileSync(file, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('app.ownr')) + 1
    const r = await cli(['validate', file])
    expect(r.exitCode).toBe(64)
    expect(r.stderr).toContain(`${file}:${line}:`)
    expect(r.stderr).toMatch(/UNKNOWN_VARIABLE: unknown variable "app.ownr" is not a variable: app\.\* has name, owner/)
  })

  it('runs the demo wave for real, resumes, verifies the journal, and rolls back', async () => {
    const dir = demoPlan()
    const r1 = await cli(['execute', 'wave', '1', '--plan', dir, '--yes'])
    expect(r1.exitCode).toBe(6)
    expect(r1.stderr).toContain('[10/10] finalize waiting-gate')
    const r2 = await cli(['execute', 'wave', '1', '--plan', dir, '--approve', 'finalize', '--app', 'shop-web'])
    expect(r2.exitCode).toBe(0)
    expect(r2.stderr).toContain('resuming at finalize')
    expect(existsSync(path.join(dir, 'demo-work/shop-web/finalized'))).toBe(true)
    const st = await cli(['status', '--plan', dir, '--verify'])
    expect(st.exitCode).toBe(0)
    expect(st.stdout).toContain('shop-web: done (10/10 steps')
    expect(st.stdout).toContain('orders-api: waiting-gate')
    expect(st.stdout).toContain('--approve finalize')
    expect(st.stdout).toContain('hash chain intact')
    const rb = await cli(['rollback', '--app', 'orders-api', '--plan', dir])
    expect(rb.exitCode).toBe(0)
    expect(existsSync(path.join(dir, 'demo-work/orders-api'))).toBe(false)
    const rb2 = await cli(['rollback', '--app', 'orders-api', '--plan', dir, '--json'])
    expect(JSON.parse(rb2.stdout).result.apps[0]).toMatchObject({app: 'orders-api', outcome: 'nothing-to-do'})
    // Tampering with the audit trail is caught.
    const jf = path.join(dir, 'state.journal')
    writeFileSync(jf, readFileSync(jf, 'utf8').replace('"user":"', '"user":"x'))
    const v = await cli(['status', '--plan', dir, '--verify', '--json'])
    expect(v.exitCode).toBe(1)
    expect(JSON.parse(v.stdout).error.code).toBe('JOURNAL_TAMPERED')
  })

  it('a second execute on the same plan is refused while the first runs (exit 4, names the holder)', async () => {
    const t = template('slow', [{id: 'sleep', run: ['sleep', '20'], idempotent: true}])
    const dir = makePlanDir({apps: [{name: 'slow', template: 'slow'}], templates: {slow: t}})
    const first = execa('node', [BIN, 'execute', 'wave', '1', '--plan', dir, '--json'], {reject: false})
    let started = false
    await new Promise<void>((resolve) => {
      first.stderr!.on('data', (c: Buffer) => {
        if (!started && c.toString().includes('"step-start"')) {
          started = true
          resolve()
        }
      })
    })
    const second = await cli(['execute', 'wave', '1', '--plan', dir, '--json'])
    expect(second.exitCode).toBe(4)
    const err = JSON.parse(second.stdout).error
    expect(err.code).toBe('LOCKED')
    expect(err.message).toContain(`pid ${first.pid}`)
    expect(err.message).toContain('execute wave 1')
    const rb = await cli(['rollback', 'wave', '1', '--plan', dir])
    expect(rb.exitCode).toBe(4)
    // Ctrl-C (SIGINT) on the first: it stops the running step and records it.
    first.kill('SIGINT')
    const f = await first
    expect(f.exitCode).toBe(130)
    const journal = readFileSync(path.join(dir, 'state.journal'), 'utf8')
    expect(journal).toContain('"type":"interrupted"')
    expect(existsSync(path.join(dir, 'state.lock'))).toBe(false)
  })
})
