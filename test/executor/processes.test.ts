// Steps do not outlive what stops them: a grandchild that ignores SIGTERM and a child that left for its own session
// (setsid) are gone when a timeout or a Ctrl-C is over, and when the CLI quits at a second Ctrl-C. After a kill -9
// of the CLI, the resume finds a step still running (its marker, its journaled pid and start time) and waits for it
// before anything reruns, or stops naming it.
import {execa} from 'execa'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {executeWave, rollbackWave} from '../../src/executor/engine.js'
import {EXIT, type MigrateError} from '../../src/errors.js'
import type {ExecEvent} from '../../src/executor/types.js'
import {readJournal} from '../../src/state/journal.js'
import {lines, makePlanDir, NODE, template} from './helpers.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BIN = path.join(ROOT, 'bin/run.js')

/** A step whose tree resists: a grandchild ignoring SIGTERM, and a child in its own session; their pids in files. */
const STUBBORN = [
  'sh',
  '-c',
  '(trap "" TERM; echo $$ > "$1/stubborn.pid"; exec sh -c "trap \\"\\" TERM; while :; do sleep 0.1; done") & setsid sh -c "echo \\$\\$ > \\"$1/setsid.pid\\"; exec sleep 60" & sleep 60',
  'stubborn',
  '{{ plan.dir }}',
]

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

async function pidsOf(dir: string): Promise<number[]> {
  for (
    let i = 0;
    i < 200 && !(existsSync(path.join(dir, 'stubborn.pid')) && existsSync(path.join(dir, 'setsid.pid')));
    i++
  )
    await new Promise((r) => setTimeout(r, 25))
  await new Promise((r) => setTimeout(r, 100))
  return ['stubborn.pid', 'setsid.pid'].map((f) => Number(readFileSync(path.join(dir, f), 'utf8')))
}

describe('step processes are stopped for real', () => {
  it('a timeout: SIGTERM, then SIGKILL, to the group and to what left it; over only when all of it is gone', async () => {
    const dir = makePlanDir({
      apps: [{name: 'to', template: 't'}],
      templates: {t: template('t', [{id: 'slow', timeout: '1s', run: STUBBORN}])},
    })
    const r = await executeWave({planDir: dir, wave: 1})
    expect(r.apps[0].steps[0].error).toMatch(/timed out/)
    const [stubborn, setsid] = await pidsOf(dir)
    expect(alive(stubborn)).toBe(false)
    expect(alive(setsid)).toBe(false)
  }, 30_000)

  it('Ctrl-C: the same', async () => {
    const dir = makePlanDir({
      apps: [{name: 'c', template: 't'}],
      templates: {t: template('t', [{id: 'slow', run: STUBBORN}])},
    })
    const ac = new AbortController()
    const p = executeWave({planDir: dir, wave: 1, signal: ac.signal})
    const [stubborn, setsid] = await pidsOf(dir)
    ac.abort()
    const r = await p
    expect(r.exitCode).toBe(EXIT.INTERRUPTED)
    expect(alive(stubborn)).toBe(false)
    expect(alive(setsid)).toBe(false)
  }, 30_000)

  it('a second Ctrl-C quits at once and kills every step process first', async () => {
    const dir = makePlanDir({
      apps: [{name: 'c', template: 't'}],
      templates: {t: template('t', [{id: 'slow', run: STUBBORN}])},
    })
    const cli = execa(NODE, [BIN, 'execute', 'wave', '1', '--plan', dir], {reject: false})
    const [stubborn, setsid] = await pidsOf(dir)
    cli.kill('SIGINT')
    await new Promise((r) => setTimeout(r, 200))
    cli.kill('SIGINT')
    const r = await cli
    expect(r.exitCode).toBe(130)
    expect(r.stderr).toMatch(/again: quitting now; killed \d+ step process/)
    await new Promise((r) => setTimeout(r, 100))
    expect(alive(stubborn)).toBe(false)
    expect(alive(setsid)).toBe(false)
  }, 30_000)
})

describe('after a kill -9 of the CLI', () => {
  // An idempotent step that says when it starts and ends: a rerun beside the still-running one would interleave.
  const SLOW = [
    'sh',
    '-c',
    'echo "start $$" >> "$1/log"; sleep 1.5; echo "end $$" >> "$1/log"',
    'slow',
    '{{ plan.dir }}',
  ]

  async function killDuringStep(dir: string): Promise<void> {
    const cli = execa(NODE, [BIN, 'execute', 'wave', '1', '--plan', dir], {reject: false})
    for (let i = 0; i < 400 && lines(path.join(dir, 'log')).length === 0; i++)
      await new Promise((r) => setTimeout(r, 25))
    cli.kill('SIGKILL')
    await cli
  }

  it('the resume waits for a step still running before it reruns anything', async () => {
    const dir = makePlanDir({
      apps: [{name: 'k', template: 't'}],
      templates: {t: template('t', [{id: 'slow', run: SLOW, idempotent: true}])},
    })
    await killDuringStep(dir)
    const events: ExecEvent[] = []
    const r = await executeWave({planDir: dir, wave: 1, emit: (e) => events.push(e)})
    expect(r.exitCode).toBe(0)
    const log = lines(path.join(dir, 'log'))
    expect(log.map((l) => l.split(' ')[0])).toEqual(['start', 'end', 'start', 'end'])
    expect(log[0].split(' ')[1]).toBe(log[1].split(' ')[1])
    const warn = events.find((e) => e.type === 'preflight' && e.finding.code === 'STEP_STILL_RUNNING')
    expect(warn && warn.type === 'preflight' && warn.finding.message).toMatch(/k\/slow \(pid \d+/)
    // The journal recorded the step's process (pid and start time) when it started.
    const proc = readJournal(path.join(dir, 'state.journal')).events.find((e) => e.type === 'step-process')
    expect(proc?.pid).toBeGreaterThan(0)
    expect(proc?.startTime).toMatch(/^\d+$/)
  }, 30_000)

  it('a process a finished step left running on purpose (a daemon) does not hold the next run', async () => {
    const dir = makePlanDir({
      apps: [{name: 'd', template: 't'}],
      templates: {
        t: template('t', [
          {
            id: 'start-daemon',
            run: ['sh', '-c', 'setsid sleep 30 > /dev/null 2>&1 & echo $! > "$1/daemon.pid"', 'd', '{{ plan.dir }}'],
          },
        ]),
      },
    })
    expect((await executeWave({planDir: dir, wave: 1})).exitCode).toBe(0)
    const pid = Number(readFileSync(path.join(dir, 'daemon.pid'), 'utf8'))
    try {
      expect(alive(pid)).toBe(true)
      const events: ExecEvent[] = []
      const r = await executeWave({planDir: dir, wave: 1, emit: (e) => events.push(e)})
      expect(r.apps[0].outcome).toBe('done')
      expect(events.some((e) => e.type === 'preflight' && e.finding.code === 'STEP_STILL_RUNNING')).toBe(false)
    } finally {
      process.kill(pid, 'SIGKILL')
    }
  })

  // A step that is not idempotent and takes effect late: after the kill its process sleeps on, the effect not yet there.
  const LATE = [
    'sh',
    '-c',
    'echo "start $$" >> "$1/log"; sleep 1.5; echo effect >> "$1/effects"; echo "end $$" >> "$1/log"',
    'late',
    '{{ plan.dir }}',
  ]

  it('a decision made while the step still ran is not acted on: the resume waits for the step, then asks again', async () => {
    const dir = makePlanDir({
      apps: [{name: 'k', template: 't'}],
      templates: {t: template('t', [{id: 'late', run: LATE, rollback: ['true']}])},
    })
    await killDuringStep(dir)
    // The operator looks at once: no effect yet, so "it did not take effect".
    expect(existsSync(path.join(dir, 'effects'))).toBe(false)
    const r = await executeWave({planDir: dir, wave: 1, retrySteps: ['k/late']})
    expect(r.exitCode).toBe(EXIT.NEEDS_OPERATOR)
    expect(r.apps[0].message).toMatch(
      /still running when this run started .* --retry-step k\/late was decided before it ended/,
    )
    // The step's own process took effect meanwhile; nothing ran it again.
    expect(lines(path.join(dir, 'effects'))).toEqual(['effect'])
    // Asked again, the operator sees the effect: --skip-step, and the wave goes on, the effect still once.
    const again = await executeWave({planDir: dir, wave: 1, skipSteps: ['k/late']})
    expect(again.exitCode).toBe(0)
    expect(lines(path.join(dir, 'effects'))).toEqual(['effect'])
  }, 30_000)

  it('the same for a compensation: a decision made while it still ran is asked again', async () => {
    const undo = [
      'sh',
      '-c',
      'echo "start $$" >> "$1/log"; sleep 1.5; echo undo >> "$1/effects"',
      'undo',
      '{{ plan.dir }}',
    ]
    const dir = makePlanDir({
      apps: [{name: 'k', template: 't'}],
      templates: {t: template('t', [{id: 'one', run: ['true'], rollback: undo}])},
    })
    expect((await executeWave({planDir: dir, wave: 1})).exitCode).toBe(0)
    const cli = execa(NODE, [BIN, 'rollback', 'wave', '1', '--plan', dir], {reject: false})
    for (let i = 0; i < 400 && lines(path.join(dir, 'log')).length === 0; i++)
      await new Promise((r) => setTimeout(r, 25))
    cli.kill('SIGKILL')
    await cli
    expect(existsSync(path.join(dir, 'effects'))).toBe(false)
    const r = await rollbackWave({planDir: dir, wave: 1, retrySteps: ['k/one']})
    expect(r.exitCode).toBe(EXIT.NEEDS_OPERATOR)
    expect(r.apps[0].message).toMatch(/the rollback of one was still running when this run started/)
    expect(lines(path.join(dir, 'effects'))).toEqual(['undo'])
    const again = await rollbackWave({planDir: dir, wave: 1, skipSteps: ['k/one']})
    expect(again.exitCode).toBe(0)
    expect(lines(path.join(dir, 'effects'))).toEqual(['undo'])
  }, 30_000)

  it('or, when it does not finish in time, stops and names it (nothing runs)', async () => {
    const dir = makePlanDir({
      apps: [{name: 'k', template: 't'}],
      templates: {t: template('t', [{id: 'slow', run: SLOW, idempotent: true}])},
    })
    await killDuringStep(dir)
    process.env.MIGRATE_WAIT_FOR_STEPS = '0'
    let err: MigrateError | undefined
    try {
      await executeWave({planDir: dir, wave: 1})
    } catch (e) {
      err = e as MigrateError
    } finally {
      delete process.env.MIGRATE_WAIT_FOR_STEPS
    }
    expect(err?.code).toBe('STEP_STILL_RUNNING')
    expect(err?.exitCode).toBe(EXIT.NEEDS_OPERATOR)
    expect(err?.message).toMatch(/k\/slow \(pid \d+: sh -c/)
    expect(lines(path.join(dir, 'log'))).toHaveLength(1)
    await new Promise((r) => setTimeout(r, 1800))
  }, 30_000)
})

describe('redaction comes before any cut', () => {
  it('output cut to its last 2,000 characters keeps no part of a secret; a pre-flight warning hides a host built from one', async () => {
    const secret = 'hunter2-SECRET-value'
    const t = template('s', [
      {
        id: 'loud',
        run: [
          NODE,
          '-e',
          'process.stdout.write(process.argv[1] + "x".repeat(1990)); process.exit(3)',
          '{{ env.DEMO_TOKEN }}',
        ],
      },
      {id: 'reach', check: {type: 'tcp', host: '{{ env.DEMO_TOKEN }}.invalid', port: 9, timeout: '1s'}},
    ])
    const dir = makePlanDir({apps: [{name: 's', template: 's'}], templates: {s: t}})
    const events: ExecEvent[] = []
    const r = await executeWave({
      planDir: dir,
      wave: 1,
      env: (n) => (n === 'DEMO_TOKEN' ? secret : undefined),
      emit: (e) => events.push(e),
    })
    const text = readFileSync(path.join(dir, 'state.journal'), 'utf8') + JSON.stringify(r) + JSON.stringify(events)
    for (let k = 3; k <= secret.length; k++) expect(text, secret.slice(-k)).not.toContain(secret.slice(-k) + 'x')
    expect(text).not.toContain('SECRET')
    expect(
      events.some(
        (e) =>
          e.type === 'preflight' &&
          e.finding.code === 'TARGET_UNREACHABLE' &&
          e.finding.message.includes('***.invalid'),
      ),
    ).toBe(true)
  }, 30_000)
})
