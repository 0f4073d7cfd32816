// The PostgreSQL state backend against the machine's real PostgreSQL: the same hash chain as the journal file, one
// valid chain under concurrent appenders, durable appends, verification that catches an edit, per-unit locks.
import {mkdtempSync, readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {openBackend, type PgBackend} from '../../src/state/backend.js'
import {JournalWriter, readJournal, verifyJournal} from '../../src/state/journal.js'
import {redactStateUrl, stateLocation} from '../../src/state/pg/connect.js'
import {useTestDb} from './pg-db.js'

const db = useTestDb('backend')

const open = (plan: string): Promise<PgBackend> =>
  openBackend(mkdtempSync(path.join(os.tmpdir(), 'migrate-pgb-')), plan, {state: db.url}) as Promise<PgBackend>

describe('PostgreSQL state backend', () => {
  it('writes the very events the journal file would: same lines, same hashes, and both verify', async () => {
    const b = await open('same-chain')
    const j = await b.openJournal('run-1', (s) => s.replace('hunter2', '***'))
    const dir = mkdtempSync(path.join(os.tmpdir(), 'migrate-pgb-'))
    const file = path.join(dir, 'state.journal')
    const w = JournalWriter.open(file, 'run-1', (s) => s.replace('hunter2', '***'), j.actor)
    const evs = [
      {type: 'run-started' as const, wave: 1, mode: 'execute' as const, message: 'é ✓ "quoted" \\ back'},
      {type: 'step-started' as const, wave: 1, app: 'a', step: 's1', attempt: 1, argv: ['x', 'pw=hunter2']},
      {type: 'step-succeeded' as const, wave: 1, app: 'a', step: 's1', durationMs: 1.5, captured: {k: 'v'}},
    ]
    const fromPg = await Promise.all(evs.map((e) => j.append(e)))
    for (const e of evs) await w.append(e)
    await w.close()
    await j.close()
    const fromFile = readJournal(file).events
    expect(fromPg.map((e) => e.seq)).toEqual([0, 1, 2])
    // Times differ; everything else, and the chain's shape, is the same.
    expect(fromPg.map(({time, hash, prev, ...r}) => r)).toEqual(fromFile.map(({time, hash, prev, ...r}) => r))
    expect(fromPg[1].argv).toEqual(['x', 'pw=***'])
    expect((await b.verify()).ok).toBe(true)
    expect(verifyJournal(file).ok).toBe(true)
    const read = await b.read()
    expect(read.events).toEqual(fromPg)
    await b.close()
  })

  it('keeps one valid chain when many runners append at once', async () => {
    const runners = await Promise.all(Array.from({length: 6}, () => open('concurrent')))
    await Promise.all(
      runners.map(async (b, r) => {
        const j = await b.openJournal(`run-${r}`, (s) => s)
        for (let i = 0; i < 30; i++) {
          if (i % 3 === 0) await j.append({type: 'step-started', wave: 1, app: `app${r}`, step: `s${i}`})
          else void j.append({type: 'step-started', wave: 1, app: `app${r}`, step: `s${i}`})
        }
        await j.close()
      }),
    )
    const v = await runners[0].verify()
    expect(v).toMatchObject({ok: true, events: 180})
    const ev = (await runners[0].read()).events
    // Each runner's events are in its own call order.
    for (let r = 0; r < 6; r++)
      expect(ev.filter((e) => e.app === `app${r}`).map((e) => e.step)).toEqual(
        Array.from({length: 30}, (_, i) => `s${i}`),
      )
    await Promise.all(runners.map((b) => b.close()))
  })

  it('verification names an edited event and events cut from the end', async () => {
    const b = await open('tamper')
    const j = await b.openJournal('run-t', (s) => s)
    for (let i = 0; i < 4; i++) await j.append({type: 'step-started', wave: 1, app: 'a', step: `s${i}`})
    expect((await b.verify()).ok).toBe(true)
    await db.query(
      `UPDATE migrate_state.events SET line = replace(line, '"s1"', '"sX"') WHERE plan_id = 'tamper' AND seq = 1`,
    )
    const v = await b.verify()
    expect(v.ok).toBe(false)
    expect(v.problems[0]).toMatchObject({seq: 1, problem: expect.stringContaining('hash does not match')})
    await db.query(`DELETE FROM migrate_state.events WHERE plan_id = 'tamper' AND seq = 3`)
    expect((await b.verify()).problems.map((p) => p.problem).join('\n')).toContain('cut from the end')
    await b.close()
  })

  it('locks units per session: a second runner is refused naming the holder; the lock ends with the session', async () => {
    const a = await open('locks')
    const b = await open('locks')
    const lease = await a.lock(['app1', 'app2'], 'execute wave 1')
    await expect(b.lock(['app3', 'app2'], 'execute wave 1')).rejects.toMatchObject({
      code: 'LOCKED',
      exitCode: 4,
      message: expect.stringMatching(/app2 is locked by .+@.+ pid \d+ \(execute wave 1/),
    })
    // All or none: app3 was released again.
    const c = await open('locks')
    await (await c.lock(['app3'], 'execute wave 1')).release()
    expect((await b.holders()).map((h) => h.unit)).toEqual(['app1', 'app2'])
    // The holder's session dies: the server frees its locks.
    let lost: Error | undefined
    a.onLost((e) => {
      lost = e
    })
    await db.query('SELECT pg_terminate_backend($1)', [a.session.backendPid])
    for (let i = 0; i < 100 && !lost; i++) await new Promise((r) => setTimeout(r, 20))
    expect(lost?.message).toContain('runs no further step')
    const j = await a.openJournal('r', (s) => s)
    await expect(j.append({type: 'step-started', wave: 1, app: 'app1', step: 's'})).rejects.toMatchObject({
      code: 'STATE_SESSION_LOST',
    })
    await (await b.lock(['app2'], 'execute wave 1')).release()
    await lease.release()
    await Promise.all([a.close(), b.close(), c.close()])
  })

  it('never shows a password: URLs are redacted, and a plan may not hold one', () => {
    expect(redactStateUrl('postgres://u:s3cret@h/db?password=x')).not.toContain('s3cret')
    expect(redactStateUrl('postgres://u:s3cret@h/db?password=x')).not.toContain('=x')
    expect(() => stateLocation(undefined, 'postgres://u:s3cret@h/db')).toThrow(
      /settings.state of the plan holds a password/,
    )
    expect(() => stateLocation('mysql://h/db')).toThrow(/not supported/)
    expect(stateLocation(undefined, undefined).kind).toBe('file')
  })

  it('reads the password from a libpq service file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'migrate-svc-'))
    const f = path.join(dir, 'pg_service.conf')
    const {writeFileSync} = await import('node:fs')
    writeFileSync(f, `# test\n[team]\nhost=127.0.0.1\nport=5432\ndbname=${db.name}\nuser=postgres\npassword=unused\n`)
    process.env.PGSERVICEFILE = f
    try {
      const b = await openBackend(dir, 'svc', {state: 'postgres:///?service=team'})
      expect(b.where).not.toContain('unused')
      expect((await b.verify()).ok).toBe(true)
      await b.close()
      expect(readFileSync(f, 'utf8')).toContain('[team]')
    } finally {
      delete process.env.PGSERVICEFILE
    }
  })
})
