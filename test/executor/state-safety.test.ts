// The journal and the lock as an attacker or a careless operator would meet them: execute trusts only a journal that
// verifies (an edited or removed event, lines cut from its end, a journal two runs forked), state files that are
// symbolic links are refused, --force-unlock does not take the lock of a live run on this host, a lock naming a reused
// pid is stale, leftovers of a killed lock taking are cleaned, and a read-only plan directory is an environment error.
import {execa} from 'execa'
import {existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync, chmodSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {executeWave, rollbackWave} from '../../src/executor/engine.js'
import {EXIT, type MigrateError} from '../../src/errors.js'
import {headFile, JournalWriter, verifyJournal} from '../../src/state/journal.js'
import {acquireLock} from '../../src/state/lock.js'
import {procStartTime} from '../../src/state/proc.js'
import {lines, makePlanDir, NODE, template} from './helpers.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BIN = path.join(ROOT, 'bin/run.js')
const APPEND = 'require("fs").appendFileSync(process.argv[1], process.argv[2] + "\\n")'
const append = (token: string): string[] => [NODE, '-e', APPEND, '{{ plan.dir }}/disk.log', token]

async function fails(p: Promise<unknown> | (() => unknown)): Promise<MigrateError> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (e) {
    return e as MigrateError
  }
  throw new Error('expected a failure')
}

async function doneWave(): Promise<{dir: string; journal: string; rows: string[]}> {
  const t = template('t', [
    {id: 'one', run: append('one'), rollback: append('undo-one')},
    {id: 'two', run: append('two'), rollback: append('undo-two')},
    {id: 'three', run: append('three'), rollback: append('undo-three')},
  ])
  const dir = makePlanDir({apps: [{name: 'a1', template: 't'}], templates: {t}})
  expect((await executeWave({planDir: dir, wave: 1})).exitCode).toBe(0)
  const journal = path.join(dir, 'state.journal')
  return {dir, journal, rows: readFileSync(journal, 'utf8').trimEnd().split('\n')}
}

describe('execute trusts only a journal that verifies', () => {
  it('an edited middle event, a removed started+succeeded pair, lines cut from the end: refused, nothing rerun', async () => {
    for (const damage of ['edit', 'remove-pair', 'cut-end', 'cut-end-and-head-gone'] as const) {
      const {dir, journal, rows} = await doneWave()
      const i = rows.findIndex((r) => r.includes('"step-succeeded"') && r.includes('"two"'))
      let out = rows
      if (damage === 'edit') out = rows.map((r, k) => (k === i ? r.replace('"step-succeeded"', '"step-failed"') : r))
      if (damage === 'remove-pair') out = rows.filter((_, k) => k !== i && k !== i - 1)
      if (damage.startsWith('cut-end')) out = rows.slice(0, i - 1)
      writeFileSync(journal, out.join('\n') + '\n')
      if (damage === 'cut-end-and-head-gone') {
        // Without its head a cut is invisible to the chain; with the head deleted too it is an honest shorter
        // journal again — the limit of integrity without a key (documented). Here: the head is kept.
        continue
      }
      const before = lines(path.join(dir, 'disk.log'))
      const err = await fails(executeWave({planDir: dir, wave: 1}))
      expect(err.code, damage).toBe('JOURNAL_TAMPERED')
      expect(err.message).toMatch(/refused: the journal does not verify/)
      expect(err.hint).toMatch(/Restore state\.journal and state\.journal\.head/)
      if (damage === 'cut-end') expect(err.message).toMatch(/cut from the end/)
      expect(lines(path.join(dir, 'disk.log'))).toEqual(before)
      // rollback trusts it no more than execute
      expect((await fails(rollbackWave({planDir: dir, wave: 1}))).code).toBe('JOURNAL_TAMPERED')
      expect(lines(path.join(dir, 'disk.log'))).toEqual(before)
      expect(existsSync(path.join(dir, 'state.lock'))).toBe(false)
    }
  })

  it('the head names the last committed event; a torn last line (a crash) is not a cut', async () => {
    const {journal, rows} = await doneWave()
    const v = verifyJournal(journal)
    expect(v.ok).toBe(true)
    expect(v.head?.seq).toBe(rows.length - 1)
    expect(v.head?.hash).toBe(JSON.parse(rows.at(-1)!).hash)
    writeFileSync(journal, rows.join('\n') + '\n' + rows.at(-1)!.slice(0, 40))
    expect(verifyJournal(journal).ok).toBe(true)
  })

  it('a journal forked by two writers stops execute', async () => {
    const {dir, journal} = await doneWave()
    const a = JournalWriter.open(journal, 'run-a')
    const b = JournalWriter.open(journal, 'run-b')
    await a.append({type: 'run-started', wave: 1, mode: 'execute'})
    await b.append({type: 'run-started', wave: 1, mode: 'execute'})
    await a.close()
    await b.close()
    const err = await fails(executeWave({planDir: dir, wave: 1}))
    expect(err.code).toBe('JOURNAL_TAMPERED')
    expect(err.message).toMatch(/sequence number|prev does not match|not the one the head recorded/)
  })
})

describe('state files are never followed through symbolic links', () => {
  it('a dangling journal link creates nothing outside the plan; a link to another file leaves it whole', async () => {
    const t = template('t', [{id: 'one', run: append('one')}])
    const dir = makePlanDir({apps: [{name: 'a1', template: 't'}], templates: {t}})
    const outside = path.join(os.tmpdir(), `migrate-victim-${process.pid}-${Date.now()}`)
    symlinkSync(outside, path.join(dir, 'state.journal'))
    const err = await fails(executeWave({planDir: dir, wave: 1}))
    expect(err.code).toBe('STATE_SYMLINK')
    expect(err.message).toContain('is a symbolic link')
    expect(existsSync(outside)).toBe(false)
    expect(existsSync(path.join(dir, 'disk.log'))).toBe(false)
    // A link to a real file: that file is not touched (no torn-line trimming of someone else's file).
    writeFileSync(outside, 'line one\nhalf a line')
    expect((await fails(executeWave({planDir: dir, wave: 1}))).code).toBe('STATE_SYMLINK')
    expect(readFileSync(outside, 'utf8')).toBe('line one\nhalf a line')
  })

  it('the lock and the head: links refused too', async () => {
    const t = template('t', [{id: 'one', run: append('one')}])
    const dir = makePlanDir({apps: [{name: 'a1', template: 't'}], templates: {t}})
    const outside = path.join(os.tmpdir(), `migrate-victim-lock-${process.pid}-${Date.now()}`)
    symlinkSync(outside, path.join(dir, 'state.lock'))
    expect((await fails(executeWave({planDir: dir, wave: 1}))).code).toBe('STATE_SYMLINK')
    expect((await fails(executeWave({planDir: dir, wave: 1, forceUnlock: true}))).code).toBe('STATE_SYMLINK')
    expect(existsSync(outside)).toBe(false)
    const dir2 = makePlanDir({apps: [{name: 'a1', template: 't'}], templates: {t}})
    symlinkSync(outside, headFile(path.join(dir2, 'state.journal')))
    expect((await fails(executeWave({planDir: dir2, wave: 1}))).code).toBe('STATE_SYMLINK')
    expect(existsSync(outside)).toBe(false)
  })
})

describe('the lock', () => {
  it('--force-unlock is refused while the holder runs on this host', async () => {
    const dir = makePlanDir({
      apps: [{name: 'a1', template: 't'}],
      templates: {t: template('t', [{id: 'one', run: append('one')}])},
    })
    const held = acquireLock(path.join(dir, 'state.lock'), 'execute wave 1')
    try {
      const err = await fails(executeWave({planDir: dir, wave: 1, forceUnlock: true}))
      expect(err.code).toBe('LOCKED')
      expect(err.exitCode).toBe(EXIT.LOCKED)
      expect(err.message).toMatch(/--force-unlock refused: .* still running on this host/)
      expect(existsSync(path.join(dir, 'disk.log'))).toBe(false)
    } finally {
      held.release()
    }
  })

  it('a lock naming a live pid that another process reuses is stale; a lock from before a reboot too', async () => {
    const dir = makePlanDir({
      apps: [{name: 'a1', template: 't'}],
      templates: {t: template('t', [{id: 'one', run: append('one')}])},
    })
    const file = path.join(dir, 'state.lock')
    const live = execa(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'])
    try {
      const real = procStartTime(live.pid!)
      expect(real).toBeDefined()
      for (const info of [
        {startTime: String(Number(real) + 1)},
        {startTime: real, bootId: '00000000-0000-0000-0000-000000000000'},
      ]) {
        writeFileSync(
          file,
          JSON.stringify({
            host: os.hostname(),
            pid: live.pid,
            user: 'old',
            since: '2026-01-01T00:00:00Z',
            operation: 'execute wave 1',
            ...info,
          }),
        )
        const lock = acquireLock(file, 'execute wave 1')
        expect(lock.replaced?.reason).toBe('stale')
        lock.release()
      }
      // The same process (start time matches): still locked.
      writeFileSync(
        file,
        JSON.stringify({
          host: os.hostname(),
          pid: live.pid,
          user: 'old',
          since: '2026-01-01T00:00:00Z',
          operation: 'execute wave 1',
          startTime: real,
        }),
      )
      expect((await fails(() => acquireLock(file, 'execute wave 1'))).code).toBe('LOCKED')
    } finally {
      live.kill('SIGKILL')
      await live.catch(() => undefined)
    }
  })

  it('temp files of a lock taking killed halfway are cleaned', () => {
    const dir = makePlanDir({
      apps: [{name: 'a1', template: 't'}],
      templates: {t: template('t', [{id: 'one', run: append('one')}])},
    })
    const file = path.join(dir, 'state.lock')
    // pid 2^22+1 is above pid_max's default ceiling: certainly not running.
    for (const n of ['state.lock.4194305.1700000000000.tmp', 'state.lock.broken.4194305'])
      writeFileSync(path.join(dir, n), '{}')
    writeFileSync(path.join(dir, `state.lock.${process.ppid}.1700000000000.tmp`), '{}')
    const lock = acquireLock(file, 'x')
    lock.release()
    const left = readdirSync(dir).filter((n) => n.startsWith('state.lock'))
    expect(left).toEqual([`state.lock.${process.ppid}.1700000000000.tmp`])
  })
})

describe('a read-only plan directory', () => {
  it('is an environment error with its own exit code, not INTERNAL', async () => {
    const t = template('t', [{id: 'one', run: ['true']}])
    const base = makePlanDir({apps: [{name: 'a1', template: 't'}], templates: {t}})
    mkdirSync(path.join(base, 'x'))
    chmodSync(base, 0o555)
    // root writes anywhere: run the CLI as nobody then.
    const asNobody =
      process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', NODE] : [NODE]
    const r = await execa(asNobody[0], [...asNobody.slice(1), BIN, 'execute', 'wave', '1', '--plan', base, '--json'], {
      reject: false,
      env: {HOME: os.tmpdir()},
    })
    chmodSync(base, 0o755)
    const env = JSON.parse(r.stdout)
    expect(env.error.code, r.stdout + r.stderr).toBe('STATE_NOT_WRITABLE')
    expect(r.exitCode).toBe(EXIT.ENVIRONMENT)
    expect(env.error.message).toContain(path.join(base, 'state.lock'))
    expect(env.error.message).toMatch(/permission denied|read-only/)
    expect(r.stdout + r.stderr).not.toMatch(/INTERNAL|This is a bug|at .*\.js:\d+/)
  })
})
