// --lock-timeout: a run that finds its plan (journal file) or its unit (shared PostgreSQL backend) locked by another
// run waits for it, saying who holds it, instead of exiting 4 at once; it gives up with exit 4 when the time is
// spent, and with 130 on Ctrl-C, having run nothing. The runners are the real CLI; the holders are real processes.
import {execa} from 'execa'
import {rmSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {currentActor} from '../../src/state/chain.js'
import {lockUnits, unlockUnits} from '../../src/state/pg/locks.js'
import {PgSession} from '../../src/state/pg/session.js'
import {useTestDb} from '../state/pg-db.js'
import {lines, makePlanDir, template} from './helpers.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const db = useTestDb('lockwait')

function plan(): string {
  return makePlanDir({
    apps: [{name: 'pay', template: 'work'}],
    templates: {
      work: template('work', [
        {id: 's1', run: ['sh', '-c', 'echo "$1" >> "$2"', 'step', '{{ app.name }}-s1', '{{ plan.dir }}/effects.log']},
      ]),
    },
  })
}

const run = (dir: string, args: string[]) =>
  execa('node', [path.join(ROOT, 'bin/run.js'), 'execute', 'wave', '1', '--plan', dir, '--yes', '--json', ...args], {
    reject: false,
    env: {NO_COLOR: '1', MIGRATE_STATE: ''},
  })

/** Another run holding the plan lock (the lock file is the contract) until it is killed or the file removed. */
function holder(dir: string) {
  const file = path.join(dir, 'state.lock')
  const p = execa(process.execPath, [
    '-e',
    `const fs = require('fs'), os = require('os');
     const info = {host: os.hostname(), pid: process.pid, user: 'ops', since: new Date().toISOString(), operation: 'execute wave 1'};
     fs.writeFileSync(${JSON.stringify(file)} + '.tmp', JSON.stringify(info)); fs.linkSync(${JSON.stringify(file)} + '.tmp', ${JSON.stringify(file)});
     fs.rmSync(${JSON.stringify(file)} + '.tmp');
     console.log('locked');
     setTimeout(() => {}, 60000);`,
  ])
  const locked = new Promise<void>((resolve) => p.stdout!.once('data', () => resolve()))
  return {p, locked}
}

/** Runs fn while another run holds the plan lock, then ends that run. */
async function whileHeld(dir: string, fn: (holderPid: number) => Promise<void>): Promise<void> {
  const h = holder(dir)
  await h.locked
  try {
    await fn(h.p.pid!)
  } finally {
    h.p.kill('SIGKILL')
    await h.p.catch(() => undefined)
  }
}

const findings = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === 'preflight')
    .map((e) => e.finding)

describe('--lock-timeout', {timeout: 60_000}, () => {
  it('the journal file: waits while the plan is locked, says who holds it, and runs once it is free', async () => {
    const dir = plan()
    await whileHeld(dir, async (holderPid) => {
      const r = run(dir, ['--lock-timeout', '30s'])
      await new Promise<void>((resolve) => r.stderr!.on('data', (d) => String(d).includes('LOCK_WAIT') && resolve()))
      expect(lines(path.join(dir, 'effects.log'))).toEqual([])
      rmSync(path.join(dir, 'state.lock')) // the holder ends its run
      const done = await r
      expect(done.exitCode, done.stderr).toBe(0)
      const wait = findings(done.stderr).filter((f) => f.code === 'LOCK_WAIT')
      expect(wait).toHaveLength(1)
      expect(wait[0].message).toMatch(new RegExp(`locked by ops@.* pid ${holderPid}.*waiting up to \\d+ s more`))
      expect(lines(path.join(dir, 'effects.log'))).toEqual(['pay-s1'])
    })
  })

  it('gives up with exit 4 when the time is spent, and at once without the flag; nothing runs', async () => {
    const dir = plan()
    await whileHeld(dir, async () => {
      const t0 = performance.now()
      const r = await run(dir, ['--lock-timeout', '1500ms'])
      expect(r.exitCode).toBe(4)
      expect(performance.now() - t0).toBeGreaterThanOrEqual(1500)
      const out = JSON.parse(r.stdout)
      expect(out.error.code).toBe('LOCKED')
      expect(out.error.message).toMatch(/still, after waiting \d+ s: --lock-timeout/)
      const now = await run(dir, [])
      expect(now.exitCode).toBe(4)
      expect(findings(now.stderr).some((f) => f.code === 'LOCK_WAIT')).toBe(false)
      expect(lines(path.join(dir, 'effects.log'))).toEqual([])
    })
  })

  it('Ctrl-C while waiting: exit 130, nothing run', async () => {
    const dir = plan()
    await whileHeld(dir, async () => {
      const r = run(dir, ['--lock-timeout', '60s'])
      await new Promise<void>((resolve) => r.stderr!.on('data', (d) => String(d).includes('LOCK_WAIT') && resolve()))
      r.kill('SIGINT')
      const done = await r
      expect(done.exitCode).toBe(130)
      expect(JSON.parse(done.stdout).error.code).toBe('INTERRUPTED')
      expect(lines(path.join(dir, 'effects.log'))).toEqual([])
    })
  })

  it('a shared backend: waits for the unit another runner holds, then runs it', async () => {
    const dir = plan()
    const other = await PgSession.connect({kind: 'postgres', url: db.url, shown: 'test'})
    try {
      // The plan's id in the backend is its metadata.name (makePlanDir: test).
      await lockUnits(other, 'test', ['pay'], 'execute wave 1', {...currentActor(), host: 'ci-7'})
      const r = run(dir, ['--state', db.url, '--lock-timeout', '30s'])
      await new Promise<void>((resolve) => r.stderr!.on('data', (d) => String(d).includes('LOCK_WAIT') && resolve()))
      expect(lines(path.join(dir, 'effects.log'))).toEqual([])
      await unlockUnits(other, 'test', ['pay'])
      const done = await r
      expect(done.exitCode, done.stderr).toBe(0)
      expect(findings(done.stderr).find((f) => f.code === 'LOCK_WAIT')?.message).toMatch(/pay is locked by .*@ci-7/)
      expect(lines(path.join(dir, 'effects.log'))).toEqual(['pay-s1'])
    } finally {
      await other.close()
    }
  })
})
