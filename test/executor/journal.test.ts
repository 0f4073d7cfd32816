// The journal and the lock on their own: torn last line, hash-chain tamper detection, group commit order, lock
// refusal by a live process, takeover of a stale lock.
import {execa} from 'execa'
import {appendFileSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {JournalWriter, readJournal, verifyJournal} from '../../src/state/journal.js'
import {acquireLock} from '../../src/state/lock.js'
import {replay, appState} from '../../src/state/status.js'

function tmp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'migrate-journal-'))
}

async function writeSome(file: string, n: number, runId = 'r1'): Promise<void> {
  const w = JournalWriter.open(file, runId)
  await Promise.all(
    Array.from({length: n}, (_, i) =>
      w.append({type: i % 2 ? 'step-succeeded' : 'step-started', wave: 1, app: 'a', step: `s${Math.floor(i / 2)}`}),
    ),
  )
  await w.close()
}

describe('journal', () => {
  it('concurrent appends keep call order, sequence numbers and an intact chain', async () => {
    const file = path.join(tmp(), 'state.journal')
    await writeSome(file, 50)
    const j = readJournal(file)
    expect(j.events.map((e) => e.seq)).toEqual(Array.from({length: 50}, (_, i) => i))
    expect(verifyJournal(file)).toMatchObject({ok: true, events: 50})
    // A second writer continues the chain.
    await writeSome(file, 4, 'r2')
    expect(verifyJournal(file)).toMatchObject({ok: true, events: 54})
  })

  it('ignores a torn last line on read and cuts it before the next append', async () => {
    const file = path.join(tmp(), 'state.journal')
    await writeSome(file, 6)
    const whole = readFileSync(file, 'utf8')
    const lastLine = whole.trimEnd().split('\n').at(-1)!
    appendFileSync(file, lastLine.slice(0, 40)) // a crash in the middle of an append
    const j = readJournal(file)
    expect(j.torn).toBe(true)
    expect(j.events).toHaveLength(6)
    expect(verifyJournal(file).ok).toBe(true)
    const st = appState(replay(j.events), 1, 'a')
    expect(st.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded'])
    await writeSome(file, 2, 'r2')
    const after = readJournal(file)
    expect(after.torn).toBe(false)
    expect(after.events).toHaveLength(8)
    expect(verifyJournal(file).ok).toBe(true)
  })

  it('a complete but garbled last line (power loss) is ignored and cut before the next append', async () => {
    const file = path.join(tmp(), 'state.journal')
    await writeSome(file, 3)
    appendFileSync(file, '\u0000\u0000{"seq":3,"ti\n')
    expect(readJournal(file)).toMatchObject({torn: true, bad: []})
    await writeSome(file, 1, 'r2')
    const after = readJournal(file)
    expect(after).toMatchObject({torn: false, bad: []})
    expect(after.events.map((e) => e.seq)).toEqual([0, 1, 2, 3])
    expect(verifyJournal(file).ok).toBe(true)
  })

  it('detects an edited, a removed and a reordered event', async () => {
    const file = path.join(tmp(), 'state.journal')
    await writeSome(file, 8)
    const rows = readFileSync(file, 'utf8').trimEnd().split('\n')

    writeFileSync(
      file,
      rows.map((r, i) => (i === 3 ? r.replace('"step-succeeded"', '"step-failed"') : r)).join('\n') + '\n',
    )
    let v = verifyJournal(file)
    expect(v.ok).toBe(false)
    expect(v.problems[0]).toMatchObject({line: 4})
    expect(v.problems[0].problem).toMatch(/edited/)

    writeFileSync(file, rows.filter((_, i) => i !== 5).join('\n') + '\n')
    v = verifyJournal(file)
    expect(v.ok).toBe(false)
    expect(v.problems[0].line).toBe(6)

    const swapped = [...rows]
    ;[swapped[2], swapped[3]] = [swapped[3], swapped[2]]
    writeFileSync(file, swapped.join('\n') + '\n')
    expect(verifyJournal(file).ok).toBe(false)

    writeFileSync(file, rows.join('\n') + '\n')
    expect(verifyJournal(file).ok).toBe(true)
  })

  it('refuses to append to a journal corrupted in the middle', async () => {
    const file = path.join(tmp(), 'state.journal')
    await writeSome(file, 4)
    const rows = readFileSync(file, 'utf8').trimEnd().split('\n')
    rows.splice(1, 0, 'garbage')
    writeFileSync(file, rows.join('\n') + '\n')
    expect(() => JournalWriter.open(file, 'r9')).toThrow(/corrupt/)
  })
})

describe('lock', () => {
  it('a second process is refused with who holds the lock; a stale lock is taken over', async () => {
    const dir = tmp()
    const file = path.join(dir, 'state.lock')
    // A real second process holds the lock (the same code, compiled or not does not matter: the file is the contract).
    const holder = execa(process.execPath, [
      '-e',
      `
      const fs = require('fs'), os = require('os');
      const info = {host: os.hostname(), pid: process.pid, user: 'holder', since: new Date().toISOString(), operation: 'execute wave 7'};
      fs.writeFileSync(${JSON.stringify(file)} + '.tmp', JSON.stringify(info)); fs.linkSync(${JSON.stringify(file)} + '.tmp', ${JSON.stringify(file)});
      console.log('locked'); setTimeout(() => {}, 30000);`,
    ])
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()))
    try {
      let err: any
      try {
        acquireLock(file, 'execute wave 1')
      } catch (e) {
        err = e
      }
      expect(err?.code).toBe('LOCKED')
      expect(err?.exitCode).toBe(4)
      expect(err?.message).toContain(`pid ${holder.pid}`)
      expect(err?.message).toContain('execute wave 7')
      expect(err?.hint).toMatch(/--force-unlock/)
      expect(err?.hint).toMatch(/two runs would execute the same steps/)
    } finally {
      holder.kill('SIGKILL')
      await holder.catch(() => undefined)
    }
    // Its process is gone now: the lock is stale and is taken over.
    const lock = acquireLock(file, 'execute wave 1')
    expect(lock.replaced?.reason).toBe('stale')
    expect(lock.replaced?.info?.pid).toBe(holder.pid)
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid)
    lock.release()
    // --force-unlock takes a lock held from another host (this host cannot tell whether it lives), not a live one here.
    writeFileSync(
      file,
      JSON.stringify({
        host: 'jump-2.elsewhere',
        pid: 4242,
        user: 'ops',
        since: new Date().toISOString(),
        operation: 'execute wave 7',
      }),
    )
    expect(() => acquireLock(file, 'two')).toThrow(/locked by ops@jump-2.elsewhere/)
    const b = acquireLock(file, 'two', {force: true})
    expect(b.replaced?.reason).toBe('forced')
    expect(() => acquireLock(file, 'three', {force: true})).toThrow(/--force-unlock refused/)
    b.release()
  })
})
