// The executor engine against real local commands: rollback order on failure, literal argv (injection), retries,
// when, gates, --no-rollback, Ctrl-C and timeouts stopping process trees, secret redaction, pre-flight blockers.
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {EXIT, type MigrateError} from '../../src/errors.js'
import {inventoryDigest} from '../../src/inventory/digest.js'
import {loadKind} from '../../src/file-kinds.js'
import type {Inventory} from '../../src/schema/inventory.js'
import {executeWave, rollbackWave} from '../../src/executor/engine.js'
import type {ExecEvent} from '../../src/executor/types.js'
import {readJournal} from '../../src/state/journal.js'
import {planStatus} from '../../src/executor/plan-status.js'
import {lines, makePlanDir, NODE, template} from './helpers.js'

const APPEND = 'require("fs").appendFileSync(process.argv[1], process.argv[2] + "\\n")'
const append = (token: string): string[] => [NODE, '-e', APPEND, '{{ plan.dir }}/disk.log', token]

async function fails(p: Promise<unknown>): Promise<MigrateError> {
  try {
    await p
  } catch (e) {
    return e as MigrateError
  }
  throw new Error('expected a failure')
}

describe('execute wave', () => {
  it('a failing health check after some steps rolls those steps back in reverse, on disk and in the journal', async () => {
    const t = template('t', [
      {id: 'one', run: append('{{ app.name }}:one'), rollback: append('{{ app.name }}:undo-one')},
      {id: 'two', run: append('{{ app.name }}:two'), rollback: append('{{ app.name }}:undo-two')},
      {id: 'no-undo', run: append('{{ app.name }}:three')},
      {
        id: 'health',
        check: {
          type: 'command',
          run: [NODE, '-e', 'process.exit(process.argv[1] === "bad" ? 1 : 0)', '{{ app.name }}'],
        },
        retries: {count: 1, backoff: '10ms'},
      },
      {id: 'after', run: append('{{ app.name }}:after'), rollback: append('{{ app.name }}:undo-after')},
    ])
    const dir = makePlanDir({
      apps: [
        {name: 'good', template: 't'},
        {name: 'bad', template: 't'},
      ],
      templates: {t},
    })
    const r = await executeWave({planDir: dir, wave: 1})
    expect(r.exitCode).toBe(EXIT.ROLLED_BACK)
    expect(r.apps.find((a) => a.app === 'good')?.outcome).toBe('done')
    expect(r.apps.find((a) => a.app === 'bad')?.outcome).toBe('rolled-back')
    const bad = lines(path.join(dir, 'disk.log')).filter((l) => l.startsWith('bad:'))
    expect(bad).toEqual(['bad:one', 'bad:two', 'bad:three', 'bad:undo-two', 'bad:undo-one'])
    const j = readJournal(path.join(dir, 'state.journal')).events.filter((e) => e.app === 'bad')
    expect(j.filter((e) => e.type === 'step-failed').map((e) => [e.step, e.attempt])).toEqual([
      ['health', 1],
      ['health', 2],
    ])
    expect(j.filter((e) => e.type.startsWith('rollback-')).map((e) => `${e.type}:${e.step}`)).toEqual([
      'rollback-started:two',
      'rollback-succeeded:two',
      'rollback-started:one',
      'rollback-succeeded:one',
    ])
    expect(j.at(-1)?.type).toBe('app-rolled-back')
    const st = planStatus(dir)
    expect(st.waves[0].apps.map((a) => [a.name, a.status])).toEqual([
      ['good', 'done'],
      ['bad', 'rolled-back'],
    ])
    // Rolling back what was already rolled back is a no-op with a clear message.
    const rb = await rollbackWave({planDir: dir, wave: 1, apps: ['bad']})
    expect(rb.apps[0].outcome).toBe('nothing-to-do')
    expect(rb.apps[0].message).toMatch(/nothing to roll back/)
    // And `migrate rollback` undoes the good one, newest first.
    const rb2 = await rollbackWave({planDir: dir, wave: 1, apps: ['good']})
    expect(rb2.exitCode).toBe(0)
    expect(lines(path.join(dir, 'disk.log')).filter((l) => l.startsWith('good:undo'))).toEqual([
      'good:undo-after',
      'good:undo-two',
      'good:undo-one',
    ])
  })

  it('inventory and parameter values with shell metacharacters arrive as literal arguments', async () => {
    const nasty = [
      'x; rm -rf /',
      '$(touch pwned)',
      '`touch pwned2`',
      'it\'s "quoted"',
      'a\nb',
      '&& echo hi | cat > pwned3',
      '*',
    ]
    const t = template(
      'inj',
      [
        {
          id: 'argv',
          run: [
            NODE,
            '-e',
            'require("fs").writeFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)))',
            '{{ plan.dir }}/argv.json',
            '{{ server.hostname }}',
            '{{ params.a }}',
            '{{ params.b }}',
            'pre-{{ params.c }}-post',
            '{{ params.d }}',
            '{{ params.e }}',
            '{{ params.f }}',
          ],
        },
      ],
      {a: '', b: '', c: '', d: '', e: '', f: ''},
    )
    const dir = makePlanDir({
      apps: [
        {
          name: 'inj',
          template: 'inj',
          servers: [{id: 'srv-1', hostname: nasty[0]}],
          params: {a: nasty[1], b: nasty[2], c: nasty[3], d: nasty[4], e: nasty[5], f: nasty[6]},
        },
      ],
      templates: {inj: t},
    })
    const r = await executeWave({planDir: dir, wave: 1})
    expect(r.exitCode).toBe(0)
    expect(JSON.parse(readFileSync(path.join(dir, 'argv.json'), 'utf8'))).toEqual([
      nasty[0],
      nasty[1],
      nasty[2],
      `pre-${nasty[3]}-post`,
      nasty[4],
      nasty[5],
      nasty[6],
    ])
    for (const f of ['pwned', 'pwned2', 'pwned3']) expect(existsSync(path.join(dir, f))).toBe(false)
    expect(existsSync(path.join(process.cwd(), 'pwned'))).toBe(false)
  })

  it('retries with backoff, skips by `when`, waits at gates, and resumes without rerunning completed steps', async () => {
    const counter = [
      NODE,
      '-e',
      'const fs=require("fs");const f=process.argv[1];const n=(fs.existsSync(f)?+fs.readFileSync(f,"utf8"):0)+1;fs.writeFileSync(f,String(n));process.exit(n<3?1:0)',
      '{{ plan.dir }}/count',
    ]
    const t = template('g', [
      {id: 'flaky', run: counter, retries: {count: 3, backoff: '5ms', factor: 2}},
      {id: 'only-prod', when: '{{ app.environment }} == dev', run: append('never')},
      {id: 'approve', gate: {message: 'go {{ app.name }}?'}},
      {id: 'last', run: append('{{ app.name }}:last')},
    ])
    const dir = makePlanDir({apps: [{name: 'g', template: 'g'}], templates: {g: t}})
    const events: ExecEvent[] = []
    const r1 = await executeWave({planDir: dir, wave: 1, emit: (e) => events.push(e)})
    expect(r1.exitCode).toBe(EXIT.NEEDS_OPERATOR)
    expect(r1.apps[0].outcome).toBe('waiting-gate')
    expect(r1.apps[0].steps.map((s) => [s.id, s.status, s.attempts])).toEqual([
      ['flaky', 'succeeded', 3],
      ['only-prod', 'skipped', undefined],
      ['approve', 'waiting-gate', undefined],
      ['last', 'not-run', undefined],
    ])
    // Exponential (5 ms, then 10 ms), each wait jittered into the upper half of its value.
    const waits = events
      .filter((e) => e.type === 'step-end' && e.step === 'flaky' && e.status === 'failed')
      .map((e) => (e as {retryInMs?: number}).retryInMs ?? -1)
    expect(waits).toHaveLength(2)
    expect(waits[0]).toBeGreaterThanOrEqual(3)
    expect(waits[0]).toBeLessThanOrEqual(5)
    expect(waits[1]).toBeGreaterThanOrEqual(5)
    expect(waits[1]).toBeLessThanOrEqual(10)
    expect(planStatus(dir).waves[0].apps[0].waitingFor).toBe('approve')
    const r2 = await executeWave({planDir: dir, wave: 1, approve: ['g/approve']})
    expect(r2.exitCode).toBe(0)
    expect(r2.apps[0].steps.map((s) => s.status)).toEqual(['already-done', 'already-done', 'succeeded', 'succeeded'])
    expect(readFileSync(path.join(dir, 'count'), 'utf8')).toBe('3')
    expect(lines(path.join(dir, 'disk.log'))).toEqual(['g:last'])
  })

  it('--no-rollback leaves completed steps in place and exits 1; a rerun retries the failed step', async () => {
    const t = template('n', [
      {id: 'one', run: append('one'), rollback: append('undo-one')},
      {id: 'gate-file', check: {type: 'command', run: ['test', '-f', '{{ plan.dir }}/ok']}},
    ])
    const dir = makePlanDir({apps: [{name: 'n', template: 'n'}], templates: {n: t}})
    const r = await executeWave({planDir: dir, wave: 1, noRollback: true})
    expect(r.exitCode).toBe(EXIT.FAILURE)
    expect(r.apps[0].outcome).toBe('failed')
    expect(lines(path.join(dir, 'disk.log'))).toEqual(['one'])
    writeFileSync(path.join(dir, 'ok'), '')
    const r2 = await executeWave({planDir: dir, wave: 1})
    expect(r2.exitCode).toBe(0)
    expect(lines(path.join(dir, 'disk.log'))).toEqual(['one'])
  })

  it('Ctrl-C stops the running step and its process tree; no new step starts; the journal records it', async () => {
    const t = template('c', [
      {
        id: 'long',
        run: ['sh', '-c', 'sleep 30 & echo $! > "$1"; wait', 'long', '{{ plan.dir }}/child.pid'],
        idempotent: false,
      },
      {id: 'next', run: append('next')},
    ])
    const dir = makePlanDir({apps: [{name: 'c', template: 'c'}], templates: {c: t}})
    const ac = new AbortController()
    // Ctrl-C once the step's process tree is up (its background child wrote its pid).
    const abortWhenRunning = async (): Promise<void> => {
      for (let i = 0; i < 200 && !existsSync(path.join(dir, 'child.pid')); i++)
        await new Promise((res) => setTimeout(res, 25))
      await new Promise((res) => setTimeout(res, 50))
      ac.abort()
    }
    const p = executeWave({
      planDir: dir,
      wave: 1,
      signal: ac.signal,
      emit: (e) => void (e.type === 'step-start' && abortWhenRunning()),
    })
    const r = await p
    expect(r.exitCode).toBe(EXIT.INTERRUPTED)
    expect(r.apps[0].outcome).toBe('interrupted')
    expect(existsSync(path.join(dir, 'disk.log'))).toBe(false)
    const pid = Number(readFileSync(path.join(dir, 'child.pid'), 'utf8'))
    await new Promise((res) => setTimeout(res, 200))
    expect(alive(pid)).toBe(false)
    const types = readJournal(path.join(dir, 'state.journal')).events.map(
      (e) => `${e.type}${e.step ? ':' + e.step : ''}`,
    )
    expect(types).toContain('interrupted:long')
    expect(types.at(-1)).toBe('run-finished')
    // A non-idempotent interrupted step is not rerun blindly: the operator must say.
    const r2 = await executeWave({planDir: dir, wave: 1})
    expect(r2.exitCode).toBe(EXIT.NEEDS_OPERATOR)
    expect(r2.apps[0].message).toMatch(/--skip-step c\/long .* --retry-step c\/long/)
    const r3 = await executeWave({planDir: dir, wave: 1, skipSteps: ['c/long']})
    expect(r3.exitCode).toBe(0)
    expect(lines(path.join(dir, 'disk.log'))).toEqual(['next'])
  })

  it('a timeout kills the whole process tree and fails the step', async () => {
    const t = template('to', [
      {
        id: 'slow',
        timeout: '1500ms',
        run: ['sh', '-c', 'sleep 30 & echo $! > "$1"; wait', 'slow', '{{ plan.dir }}/child.pid'],
      },
    ])
    const dir = makePlanDir({apps: [{name: 'to', template: 'to'}], templates: {to: t}})
    const r = await executeWave({planDir: dir, wave: 1})
    expect(r.apps[0].outcome).toBe('rolled-back')
    expect(r.apps[0].steps[0].error).toMatch(/timed out/)
    const pid = Number(readFileSync(path.join(dir, 'child.pid'), 'utf8'))
    await new Promise((res) => setTimeout(res, 200))
    expect(alive(pid)).toBe(false)
  })

  it('secrets from env.* are redacted from the journal, results and events', async () => {
    const secret = 'hunter2-SECRET-value'
    const t = template('s', [
      {
        id: 'echo',
        run: [
          NODE,
          '-e',
          'console.log("token=" + process.argv[1]); process.exit(process.argv[2] === "fail" ? 3 : 0)',
          '{{ env.DEMO_TOKEN }}',
          'ok',
        ],
      },
      {
        id: 'leak',
        run: [NODE, '-e', 'console.error("bad token " + process.argv[1]); process.exit(3)', '{{ env.DEMO_TOKEN }}'],
      },
    ])
    const dir = makePlanDir({apps: [{name: 's', template: 's'}], templates: {s: t}})
    const events: ExecEvent[] = []
    const r = await executeWave({
      planDir: dir,
      wave: 1,
      env: (n) => (n === 'DEMO_TOKEN' ? secret : process.env[n]),
      emit: (e) => events.push(e),
    })
    expect(r.apps[0].outcome).toBe('rolled-back')
    const journal = readFileSync(path.join(dir, 'state.journal'), 'utf8')
    expect(journal).toContain('token=***')
    expect(journal).toContain('bad token ***')
    for (const text of [journal, JSON.stringify(r), JSON.stringify(events)]) expect(text).not.toContain(secret)
    const dry = await executeWave({planDir: dir, wave: 1, dryRun: true, env: () => undefined})
    expect(dry.apps[0].steps[0].detail).toContain('<env.DEMO_TOKEN>')
    expect(dry.preflight.map((f) => f.code)).toContain('MISSING_ENV')
    const e = await fails(executeWave({planDir: dir, wave: 1, env: () => undefined}))
    expect(e.code).toBe('PREFLIGHT_BLOCKED')
    expect(e.diagnostics.map((d) => d.code)).toContain('MISSING_ENV')
  })

  it('pre-flight: unknown variables and missing programs block the wave before anything runs, with file:line', async () => {
    const text = `apiVersion: migrate/v1
kind: RunbookTemplate
metadata:
  name: broken
steps:
  - id: ok
    run: [touch, "{{ plan.dir }}/touched"]
  - id: typo
    run: [echo, "{{ app.nmae }}"]
  - id: tool
    run: [no-such-program-xyz, "{{ app.name }}"]
`
    const dir = makePlanDir({apps: [{name: 'b', template: 'broken'}], templates: {broken: text}})
    const e = await fails(executeWave({planDir: dir, wave: 1}))
    expect(e.code).toBe('PREFLIGHT_BLOCKED')
    expect(e.exitCode).toBe(EXIT.BAD_INPUT)
    const unknown = e.diagnostics.find((d) => d.code === 'UNKNOWN_VARIABLE')
    expect(unknown?.file).toBe(path.join(dir, 'templates', 'broken.yaml'))
    expect(unknown?.line).toBe(9)
    expect(unknown?.message).toMatch(/app\.nmae/)
    // Fix the typo: now the missing program blocks.
    writeFileSync(path.join(dir, 'templates', 'broken.yaml'), text.replace('app.nmae', 'app.name'))
    const e2 = await fails(executeWave({planDir: dir, wave: 1}))
    expect(e2.diagnostics.some((d) => d.code === 'PROGRAM_NOT_FOUND' && /no-such-program-xyz/.test(d.message))).toBe(
      true,
    )
    expect(existsSync(path.join(dir, 'touched'))).toBe(false)
    expect(existsSync(path.join(dir, 'state.journal'))).toBe(false)
  })

  it('a rollback with nothing to undo says so once and leaves no empty journal behind', async () => {
    const dir = makePlanDir({
      apps: [{name: 'idle', template: 't'}],
      templates: {t: template('t', [{id: 'one', run: append('one')}])},
    })
    const rb = await rollbackWave({planDir: dir, wave: 1})
    expect(rb.exitCode).toBe(0)
    expect(rb.apps[0]).toMatchObject({
      outcome: 'nothing-to-do',
      message: 'no step has run in wave 1, so nothing to roll back',
    })
    expect(existsSync(path.join(dir, 'state.journal'))).toBe(false)
    expect(existsSync(path.join(dir, 'state.lock'))).toBe(false)
  })

  it("refuses a stale plan (inventory changed since planning) unless --allow-stale; an older plan's file digest sees any edit", async () => {
    const dir = makePlanDir({
      apps: [{name: 'st', template: 't'}],
      templates: {t: template('t', [{id: 'one', run: append('one')}])},
    })
    writeFileSync(
      path.join(dir, 'inventory.yaml'),
      readFileSync(path.join(dir, 'inventory.yaml'), 'utf8') + '# edited\n',
    )
    const e = await fails(executeWave({planDir: dir, wave: 1}))
    expect(e.code).toBe('STALE_PLAN')
    expect(e.exitCode).toBe(EXIT.STALE_PLAN)
    const r = await executeWave({planDir: dir, wave: 1, allowStale: true})
    expect(r.exitCode).toBe(0)
    expect(r.preflight.some((f) => f.code === 'STALE_PLAN' && f.severity === 'warning')).toBe(true)
  })

  it("a plan made now is bound to the inventory's content: comments, formatting and a new generatedAt are not a change", async () => {
    const dir = makePlanDir({
      apps: [{name: 'ct', template: 't', servers: [{id: 'ct-1', ip: '10.0.0.9'}]}],
      templates: {t: template('t', [{id: 'one', run: append('one')}])},
    })
    const invFile = path.join(dir, 'inventory.yaml')
    const planFile = path.join(dir, 'plan.yaml')
    // What `migrate plan` writes today: the content digest.
    const digest = inventoryDigest(loadKind<Inventory>('inventory', invFile).value)
    expect(digest).toMatch(/^content-sha256:[0-9a-f]{64}$/)
    writeFileSync(planFile, readFileSync(planFile, 'utf8').replace(/inventoryDigest: .*/, `inventoryDigest: ${digest}`))
    // `discover` run again with nothing new: another generatedAt, a comment, other quoting and key order.
    const text = readFileSync(invFile, 'utf8')
    const same =
      `# refreshed by discover\n${text.replace('name: test', 'name: "test"\n  generatedAt: 2027-02-01T00:00:00Z')}`.replace(
        'vcpus: 2\n    memoryMiB: 4096',
        'memoryMiB: 4096\n    vcpus: 2',
      )
    expect(same).not.toBe(text)
    writeFileSync(invFile, same)
    expect((await executeWave({planDir: dir, wave: 1, dryRun: true})).exitCode).toBe(0)
    // Tags listed in another order (as a cloud API may do from one run to the next) are the same tags.
    const tagged = (tags: string) => same.replace('    application: ct', `    application: ct\n    tags:\n${tags}`)
    writeFileSync(invFile, tagged('      app: ct\n      env: prod\n'))
    const withTags = inventoryDigest(loadKind<Inventory>('inventory', invFile).value)
    writeFileSync(invFile, tagged('      env: prod\n      app: ct\n'))
    expect(inventoryDigest(loadKind<Inventory>('inventory', invFile).value)).toBe(withTags)
    writeFileSync(invFile, tagged('      env: staging\n      app: ct\n'))
    expect(inventoryDigest(loadKind<Inventory>('inventory', invFile).value)).not.toBe(withTags)
    writeFileSync(invFile, same)
    // A resized server is a change.
    writeFileSync(invFile, same.replace('vcpus: 2', 'vcpus: 8'))
    const e = await fails(executeWave({planDir: dir, wave: 1, dryRun: true}))
    expect(e.code).toBe('STALE_PLAN')
    expect(e.message).toMatch(/inventory digest [0-9a-f]{12}…, plan expects [0-9a-f]{12}…/)
  })

  it('finalize needs its own approval (--yes is not enough) and a healthy soak', async () => {
    const t = template('f', [
      {id: 'cutover', run: append('cutover'), rollback: append('undo-cutover')},
      {
        id: 'finalize',
        finalize: true,
        soak: {
          duration: '300ms',
          interval: '100ms',
          check: {type: 'command', run: ['test', '-f', '{{ plan.dir }}/healthy']},
        },
        run: append('finalized'),
      },
    ])
    const dir = makePlanDir({apps: [{name: 'f', template: 'f'}], templates: {f: t}})
    const r1 = await executeWave({planDir: dir, wave: 1, yes: true})
    expect(r1.apps[0].outcome).toBe('waiting-gate')
    const r2 = await executeWave({planDir: dir, wave: 1, approve: ['finalize']})
    expect(r2.apps[0].outcome).toBe('rolled-back')
    expect(r2.apps[0].steps[1].error).toMatch(/soak check failed/)
    expect(lines(path.join(dir, 'disk.log'))).toEqual(['cutover', 'undo-cutover'])
    writeFileSync(path.join(dir, 'healthy'), '')
    const r3 = await executeWave({planDir: dir, wave: 1, approve: ['finalize']})
    expect(r3.exitCode).toBe(0)
    expect(lines(path.join(dir, 'disk.log'))).toEqual(['cutover', 'undo-cutover', 'cutover', 'finalized'])
  })
})

/** Running (a zombie waiting for a parent that never reaps it counts as gone). */
describe('database units', () => {
  it('a database with its own template runs as APP:DB with {{ database.* }} bound to that database', async () => {
    const app = template('app', [{id: 'app-step', run: append('{{ app.name }} app {{ databases }}')}])
    const db = template('db', [
      {
        id: 'db-step',
        run: append(
          '{{ app.name }} db {{ database.id }} {{ database.engine }} {{ database.host }}:{{ database.port }}',
        ),
      },
    ])
    const dir = makePlanDir({
      apps: [
        {
          name: 'shop',
          template: 'app',
          databases: [
            {id: 'shop-pg', engine: 'postgres', host: '10.0.0.5', port: 5432, template: 'db'},
            {id: 'shop-redis', engine: 'redis', host: '10.0.0.6', port: 6379, template: 'db'},
            {id: 'shop-plain', engine: 'mysql'},
          ],
        },
      ],
      templates: {app, db},
    })
    const r = await executeWave({planDir: dir, wave: 1, concurrency: 1})
    expect(r.apps.map((a) => [a.app, a.template, a.outcome])).toEqual([
      ['shop', 'app', 'done'],
      ['shop:shop-pg', 'db', 'done'],
      ['shop:shop-redis', 'db', 'done'],
    ])
    expect(lines(path.join(dir, 'disk.log'))).toEqual([
      'shop app 3',
      'shop db shop-pg postgres 10.0.0.5:5432',
      'shop db shop-redis redis 10.0.0.6:6379',
    ])
    expect(planStatus(dir).waves[0].apps.map((a) => [a.name, a.status])).toEqual([
      ['shop', 'done'],
      ['shop:shop-pg', 'done'],
      ['shop:shop-redis', 'done'],
    ])
    const one = await rollbackWave({planDir: dir, wave: 1, apps: ['shop:shop-redis']})
    expect(one.apps.map((a) => [a.app, a.outcome])).toEqual([['shop:shop-redis', 'rolled-back']])
    const rb = await rollbackWave({planDir: dir, wave: 1, apps: ['shop']})
    expect(rb.apps.map((a) => [a.app, a.outcome])).toEqual([
      ['shop', 'rolled-back'],
      ['shop:shop-pg', 'rolled-back'],
      ['shop:shop-redis', 'nothing-to-do'],
    ])
  })
})

describe('captures', () => {
  it('a run step captures stdout as {{ steps.NAME }}; later steps, rollbacks and resumed runs see it', async () => {
    const t = template('cap', [
      {
        id: 'create-job',
        run: [NODE, '-e', 'console.log("job-" + process.argv[1])', '{{ app.name }}'],
        capture: 'jobId',
        rollback: append('delete {{ steps.jobId }}'),
      },
      {id: 'use', run: append('use {{ steps.jobId }}'), rollback: append('undo-use {{ steps.jobId }}')},
      {id: 'gate', gate: {message: 'continue?'}},
      {id: 'check', check: {type: 'command', run: ['test', '-f', '{{ plan.dir }}/ok']}},
    ])
    const dir = makePlanDir({apps: [{name: 'c1', template: 'cap'}], templates: {cap: t}})
    const dry = await executeWave({planDir: dir, wave: 1, dryRun: true})
    expect(dry.apps[0].steps[1].detail).toContain('use <steps.jobId>')
    const r1 = await executeWave({planDir: dir, wave: 1})
    expect(r1.apps[0].outcome).toBe('waiting-gate')
    // A new run (as a new process would) gets the captured value from the journal, without rerunning create-job.
    const r2 = await executeWave({planDir: dir, wave: 1, yes: true})
    expect(r2.apps[0].outcome).toBe('rolled-back')
    expect(lines(path.join(dir, 'disk.log'))).toEqual(['use job-c1', 'undo-use job-c1', 'delete job-c1'])
    const bad = template('bad', [
      {id: 'use', run: ['echo', '{{ steps.later }}']},
      {id: 'later', run: ['echo'], capture: 'later'},
    ])
    const dir2 = makePlanDir({apps: [{name: 'c2', template: 'bad'}], templates: {bad}})
    const e = await fails(executeWave({planDir: dir2, wave: 1, dryRun: true}))
    expect(e.diagnostics.find((d) => d.code === 'UNKNOWN_VARIABLE')?.message).toMatch(
      /no earlier step has capture: later/,
    )
  })
})

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}
