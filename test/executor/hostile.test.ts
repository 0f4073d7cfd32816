// A corpus of hostile values (what an inventory, a CMDB export or a careless plan edit can hold) run through every
// shipped template's dry-run and the `when` evaluator. Each value is put in every place a value can go: the owner,
// the server's name and hostname, the database, every parameter of the template. For each template and value:
//  - the dry-run either renders, or stops with a located blocker saying which value may not go where
//    (PATH_ESCAPES, OPTION_LIKE_VALUE, UNSAFE_VALUE: file:line of the template) — never anything else;
//  - what it renders has no value reading as an option (an argument starting with "-" not written so by the
//    template), no path under the plan directory that leaves it, and printable-only human output with exactly the
//    lines of a benign value (no forged line, no escape sequence);
//  - the JMESPath query of aws-mgn-rehost selects exactly the server whose hostname is the value, as the library the
//    AWS CLI uses (jmespath.py) reads it; the SQL placements read back as the same value and name in a real
//    PostgreSQL and MariaDB (both sql_modes);
//  - `when` compares values as values.
import {execa} from 'execa'
import {mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {onFreePort} from '../helpers/ports.js'
import {startMariadb, startPostgres, type ServerHandle} from '../../src/db/lab/servers.js'
import {executeWave} from '../../src/executor/engine.js'
import {formatDryRun, formatEventLine} from '../../src/executor/view.js'
import type {ExecEvent, WaveResult} from '../../src/executor/types.js'
import type {MigrateError} from '../../src/errors.js'
import {hasUnprintable} from '../../src/runbook/printable.js'
import {evaluateWhen, FILTERS, renderString, type VarScope} from '../../src/runbook/vars.js'
import {AppName} from '../../src/schema/common.js'
import {makePlanDir} from './helpers.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const TEMPLATES = readdirSync(path.join(ROOT, 'templates'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''))

export const HOSTILE: string[] = [
  // paths
  '../../../victim',
  'x/../../../victim',
  '..',
  '.',
  '/etc/passwd',
  'a/b',
  '~root',
  'a/../..',
  '../',
  // options
  '-oProxyCommand=touch /tmp/pwned',
  '--help',
  '-',
  '--',
  '-rf',
  '--output=/etc/passwd',
  '-c',
  '--version',
  // JMESPath
  "zzz' || sourceProperties.identificationHints.hostname=='payments-db-01",
  'zzz` || `true',
  'a\\',
  'a`',
  "'",
  '"',
  '`',
  "\\'",
  "x'] | [0] | ['",
  '*',
  '@',
  '\\`"',
  '`"]`',
  // SQL
  'x"; DROP TABLE t; --',
  "' OR 1=1 --",
  "a'b",
  "a\\'b",
  '`; DROP DATABASE mysql; --',
  '$$',
  "E'\\\\'",
  '\\',
  "\\\\'; SELECT 1; --",
  'select',
  // when
  'a != b',
  'a == a',
  'prod',
  ' prod',
  "'prod'",
  '"prod"',
  'true',
  'false',
  '0',
  'no',
  'OFF',
  '== prod',
  '!=',
  '{{ env.HOME }}',
  '{{ app.name }}',
  '}} {{',
  // output spoofing
  'a\n12:00:00 app1 done',
  '\u001b[2K\rAPPROVED',
  '\r',
  '\u202eevil',
  'nul\u0000byte',
  'tab\there',
  'line\u2028sep',
  '\u009b31m',
  'bell\u0007',
  '\u200bzero-width',
  '\ufeffbom',
  // shell
  '$(touch /tmp/pwned)',
  '`id`',
  '; rm -rf /',
  '| cat /etc/passwd',
  '&& reboot',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a hostile value, literally
  '${IFS}',
  // size, unicode, emptiness
  'A'.repeat(5000),
  'ünïcödé-ホスト',
  '🚀',
  '',
  ' ',
]

const BENIGN = 'benign-value'
const ALLOWED_BLOCKERS = new Set(['PATH_ESCAPES', 'OPTION_LIKE_VALUE', 'UNSAFE_VALUE'])

function planFor(template: string, v: string): string {
  const params: Record<string, string> = {}
  // Every parameter the template declares gets the value (the template file is read for its declared names).
  const text = readFileSync(path.join(ROOT, 'templates', `${template}.yaml`), 'utf8')
  const m = /\n  params:\n((?:    .*\n|\s*#.*\n)+)/.exec(text)
  for (const line of (m?.[1] ?? '').split('\n')) {
    const k = /^ {4}([A-Za-z0-9_]+):/.exec(line)
    if (k) params[k[1]] = v
  }
  const dir = makePlanDir({
    apps: [
      {
        name: 'app1',
        template,
        owner: v,
        params,
        servers: [{id: 'srv1', name: v, hostname: v, ip: '10.0.0.1'}],
        databases: [{id: 'db1', engine: 'postgres', host: v, port: 5432}],
      },
    ],
  })
  return dir
}

/** The lines of a dry-run that are not pre-flight findings (a value may add a warning, never a line of its own). */
function stepLines(text: string): number {
  return text
    .split('\n')
    .filter((l) => !/^ {2}\S.*: (warning|info) [A-Z_]+: /.test(l) && !/^ {2}(warning|info) [A-Z_]+: /.test(l)).length
}

interface Outcome {
  result?: WaveResult
  error?: MigrateError
  events: ExecEvent[]
}

async function dryRun(template: string, v: string): Promise<Outcome> {
  const dir = planFor(template, v)
  const events: ExecEvent[] = []
  try {
    const result = await executeWave({
      planDir: dir,
      wave: 1,
      dryRun: true,
      emit: (e) => events.push(e),
      env: () => 'env-secret-value',
      deps: {which: () => true},
    })
    return {result, events}
  } catch (e) {
    return {error: e as MigrateError, events}
  }
}

describe('hostile values through every shipped template', () => {
  const benignLines = new Map<string, number>()

  it(`${HOSTILE.length} values × ${TEMPLATES.length} templates: rendered safely or refused with a located blocker`, async () => {
    const tally = {rendered: 0, refused: 0, schema: 0}
    for (const t of TEMPLATES) {
      const b = await dryRun(t, BENIGN)
      expect(b.error, `${t}: ${b.error?.message}`).toBeUndefined()
      benignLines.set(t, stepLines(formatDryRun(b.result!)))
    }
    for (const t of TEMPLATES) {
      for (const v of HOSTILE) {
        const o = await dryRun(t, v)
        const label = `${t} ${JSON.stringify(v.slice(0, 60))}`
        if (o.error) {
          tally.refused++
          // An inventory value its schema refuses (an empty server name) is a located schema error of validate.
          if (o.error.code === 'INVALID_FILE') {
            expect(o.error.diagnostics[0]?.line, label).toBeGreaterThan(0)
            tally.schema++
            continue
          }
          expect(o.error.code, `${label}: ${o.error.message}`).toBe('PREFLIGHT_BLOCKED')
          const blockers = o.error.diagnostics.filter((d) => d.severity === 'error')
          expect(blockers.length, label).toBeGreaterThan(0)
          for (const d of blockers) {
            expect(ALLOWED_BLOCKERS.has(d.code), `${label}: ${d.code} ${d.message}`).toBe(true)
            expect(d.file, label).toMatch(/\.yaml$/)
            expect(d.line, label).toBeGreaterThan(0)
            expect(hasUnprintable(d.message), `${label}: ${d.message}`).toBe(false)
          }
          continue
        }
        tally.rendered++
        const text = formatDryRun(o.result!)
        for (const line of text.split('\n')) expect(hasUnprintable(line), `${label}: ${line}`).toBe(false)
        expect(stepLines(text), `${label}: forged lines?\n${text}`).toBe(benignLines.get(t))
        for (const e of o.events) {
          const line = formatEventLine(e)
          if (line !== undefined) expect(hasUnprintable(line) || line.includes('\n'), label).toBe(false)
        }
        // No rendered argument reads as an option unless the template wrote it so; no path leaves the plan.
        for (const a of o.result!.apps) {
          for (const s of a.steps) {
            for (const d of [s.detail, s.rollback]) {
              // Gate messages, http URLs and tcp hosts are not argv: no program reads them as options.
              if (!d || d.startsWith('gate: ')) continue
              expect(d.replace(/http (GET|HEAD|POST) .*? → /g, '').replace(/\btcp .*:\d*/g, ''), label).not.toMatch(
                / '?-oProxyCommand| '?--help\b| '?--version\b| '-rf'| '--output=/,
              )
            }
          }
        }
      }
    }
    console.log(
      `hostile corpus: ${HOSTILE.length} values × ${TEMPLATES.length} templates = ${HOSTILE.length * TEMPLATES.length} dry-runs: ${tally.rendered} rendered safely, ${tally.refused} refused with a located error (${tally.schema} of them by the inventory's schema)`,
    )
    expect(tally.refused).toBeGreaterThan(0)
    expect(tally.rendered).toBeGreaterThan(0)
  }, 300_000)

  it('application names: the strict pattern refuses every name that could leave a directory or read as an option', () => {
    let accepted = 0
    for (const v of HOSTILE) {
      if (!AppName.safeParse(v).success) continue
      accepted++
      const planDir = '/plans/p'
      const full = path.resolve(planDir, 'demo-work', v)
      expect(full.startsWith('/plans/p/demo-work/'), v).toBe(true)
      expect(v.startsWith('-')).toBe(false)
      expect(hasUnprintable(v)).toBe(false)
    }
    expect(accepted).toBeGreaterThan(0)
    expect(AppName.safeParse('x/../../../victim').success).toBe(false)
    expect(AppName.safeParse('payments-api').success).toBe(true)
  })
})

describe('the when evaluator compares values', () => {
  const scope = (vals: Record<string, string>): VarScope => ({
    values: new Map(Object.entries(vals)),
    secrets: new Set(),
    env: () => undefined,
  })
  it(`over the ${HOSTILE.length} values: == / != / truthiness decided by the value itself, never by its text re-read`, () => {
    for (const v of HOSTILE) {
      const s = scope({'app.owner': v, 'server.name': 'prod', 'app.name': 'app1'})
      expect(evaluateWhen('{{ app.owner }} == prod', s), JSON.stringify(v)).toBe(v === 'prod')
      expect(evaluateWhen('{{ app.owner }} != prod', s), JSON.stringify(v)).toBe(v !== 'prod')
      expect(evaluateWhen("'{{ app.owner }}' == 'prod'", s), JSON.stringify(v)).toBe(v === 'prod')
      expect(evaluateWhen('{{ app.owner }} == {{ server.name }}', s), JSON.stringify(v)).toBe(v === 'prod')
      expect(evaluateWhen('{{ app.owner }} == {{ app.owner }}', s), JSON.stringify(v)).toBe(true)
      expect(evaluateWhen('{{ app.owner }}', s), JSON.stringify(v)).toBe(
        !['', 'false', '0', 'no', 'off'].includes(v.trim().toLowerCase()),
      )
    }
    // The case: an owner `a != b` made a condition true.
    expect(evaluateWhen('{{ app.owner }} == prod', scope({'app.owner': 'a != b'}))).toBe(false)
    expect(evaluateWhen('{{ app.owner }}', scope({'app.owner': 'a == b'}))).toBe(true)
    // A value is never rendered again: "{{ env.HOME }}" in a value stays that text.
    expect(renderString('{{ app.owner }}', scope({'app.owner': '{{ env.HOME }}'}))).toBe('{{ env.HOME }}')
  })
})

const PY = `
import json, sys, jmespath
cases = json.load(sys.stdin)
out = []
for c in cases:
    try:
        out.append({"ok": True, "r": jmespath.search(c["q"], c["data"])})
    except Exception as e:
        out.append({"ok": False, "e": type(e).__name__ + ": " + str(e)})
print(json.dumps(out))
`

describe("JMESPath placement, read by jmespath.py (the AWS CLI's library)", () => {
  it('the aws-mgn-rehost query selects exactly the server with that hostname, for every value', async () => {
    const has = await execa('python3', ['-c', 'import jmespath'], {reject: false})
    if (has.exitCode !== 0) return console.log('jmespath.py not installed: JMESPath oracle skipped')
    const text = readFileSync(path.join(ROOT, 'templates/aws-mgn-rehost.yaml'), 'utf8')
    const q = /--query, "(items\[\?sourceProperties[^"]*)"/.exec(text)![1]
    const values = HOSTILE.filter((v) => !v.includes('\u0000'))
    const cases = values.map((v) => {
      const scope: VarScope = {values: new Map([['server.hostname', v]]), secrets: new Set(), env: () => undefined}
      const items = [v, 'payments-db-01', 'zzz', '']
        .filter((h, i, a) => a.indexOf(h) === i)
        .map((h, i) => ({
          sourceServerID: h === v ? 's-wanted' : `s-other${i}`,
          isArchived: false,
          sourceProperties: {identificationHints: {hostname: h}},
        }))
      return {q: renderString(q, scope), data: {items}}
    })
    const r = await execa('python3', ['-c', PY], {input: JSON.stringify(cases)})
    const got = JSON.parse(r.stdout) as {ok: boolean; r?: unknown; e?: string}[]
    got.forEach((g, i) => {
      expect(g, `${JSON.stringify(values[i])} → ${cases[i].q}`).toEqual({ok: true, r: 's-wanted'})
    })
    // Before typed placement, the hostname selected another server.
    const old =
      "items[?sourceProperties.identificationHints.hostname=='zzz' || sourceProperties.identificationHints.hostname=='payments-db-01' && isArchived==`false`].sourceServerID | [0]"
    const r2 = await execa('python3', ['-c', PY], {
      input: JSON.stringify([
        {
          q: old,
          data: {
            items: [
              {
                sourceServerID: 's-pay',
                isArchived: false,
                sourceProperties: {identificationHints: {hostname: 'payments-db-01'}},
              },
            ],
          },
        },
      ]),
    })
    expect(JSON.parse(r2.stdout)[0].r).toBe('s-pay')
  })
})

describe('SQL placement, read back by real servers', () => {
  let pgh: ServerHandle | undefined
  let myh: ServerHandle | undefined
  beforeAll(async () => {
    // Reserved ports (test/helpers/ports.ts), started again elsewhere if another process took one in between.
    pgh = await onFreePort((port) => startPostgres({port}))
    myh = await onFreePort((port) => startMariadb({port, serverId: 1}))
  }, 120_000)
  afterAll(async () => {
    await pgh?.stop()
    await myh?.stop()
  })

  const values = HOSTILE.filter((v) => !v.includes('\u0000'))

  it('PostgreSQL: sql_literal reads back as the value, sql_ident as the column name', async () => {
    const c = new pg.Client({connectionString: pgh!.url})
    await c.connect()
    try {
      for (const v of values) {
        const r = await c.query(`SELECT ${FILTERS.sql_literal(v)} AS v`)
        expect(r.rows[0].v, JSON.stringify(v)).toBe(v)
        // Identifiers: 1 to 63 bytes (longer ones are cut by PostgreSQL, an empty one is an error: never another meaning).
        if (v.length === 0 || Buffer.byteLength(v) > 63) continue
        const r2 = await c.query(`SELECT 1 AS ${FILTERS.sql_ident(v)}`)
        expect(
          r2.fields.map((f) => f.name),
          JSON.stringify(v),
        ).toEqual([v])
      }
      // standard_conforming_strings off: the literal still reads back.
      await c.query('SET standard_conforming_strings = off')
      for (const v of values)
        expect((await c.query(`SELECT ${FILTERS.sql_literal(v)} AS v`)).rows[0].v, JSON.stringify(v)).toBe(v)
    } finally {
      await c.end()
    }
  })

  it('MariaDB: mysql_literal and mysql_ident, with and without NO_BACKSLASH_ESCAPES', async () => {
    const c = await mysql.createConnection({socketPath: path.join(myh!.dir, 'sock'), user: 'root'})
    try {
      for (const mode of ['', 'NO_BACKSLASH_ESCAPES']) {
        await c.query(`SET SESSION sql_mode = '${mode}'`)
        for (const v of values) {
          const [rows] = (await c.query(`SELECT ${FILTERS.mysql_literal(v)} AS v`)) as [{v: string}[], unknown]
          expect(String(rows[0].v), `${mode} ${JSON.stringify(v)}`).toBe(v)
          // Names: 1 to 64 characters, no space at either end, no control character (MariaDB's own rules: it refuses,
          // trims or drops those, and names outside the BMP — the name changes or is an error, never the statement).
          if (
            v.length === 0 ||
            v.length > 64 ||
            /^\s|\s$/.test(v) ||
            hasUnprintable(v) ||
            /[\u{10000}-\u{10ffff}]/u.test(v)
          )
            continue
          const [, fields] = (await c.query(`SELECT 1 AS ${FILTERS.mysql_ident(v)}`)) as [unknown, {name: string}[]]
          expect(
            fields.map((f) => f.name),
            `${mode} ${JSON.stringify(v)}`,
          ).toEqual([v])
        }
      }
    } finally {
      await c.end()
    }
  })
})

describe("the issue's cases, end to end", () => {
  it('an application named x/../../../victim is refused by validate with file:line; a workDir of ../.. stops local-demo before it deletes anything', async () => {
    const dir = makePlanDir({apps: [{name: 'ok-app', template: 'local-demo'}]})
    const inv = path.join(dir, 'inventory.yaml')
    writeFileSync(inv, readFileSync(inv, 'utf8').replace('name: ok-app', 'name: x/../../../victim'))
    const v = await execa(process.execPath, [path.join(ROOT, 'bin/run.js'), 'validate', inv, '--json'], {reject: false})
    expect(v.exitCode).toBe(64)
    const d = JSON.parse(v.stdout).error.diagnostics[0]
    expect(d.line).toBeGreaterThan(0)
    expect(d.message).toMatch(/application names (use letters, digits|may not contain "\.\.")/)
    // A parameter that climbs out: the pre-flight refuses it (the template's line), and a real run deletes nothing.
    const dir2 = makePlanDir({apps: [{name: 'victim', template: 'local-demo', params: {workDir: '../..'}}]})
    const outside = path.resolve(dir2, '../..', 'victim')
    mkdirSync(outside, {recursive: true})
    writeFileSync(path.join(outside, 'keep'), 'x')
    const err = (await executeWave({planDir: dir2, wave: 1, yes: true}).catch((e) => e)) as MigrateError
    expect(err.code).toBe('PREFLIGHT_BLOCKED')
    const pe = err.diagnostics.find((x) => x.code === 'PATH_ESCAPES')
    expect(pe?.file).toMatch(/local-demo\.yaml$/)
    expect(pe?.line).toBeGreaterThan(0)
    expect(pe?.message).toMatch(/leaves the plan directory/)
    expect(readFileSync(path.join(outside, 'keep'), 'utf8')).toBe('x')
    rmSync(outside, {recursive: true, force: true})
  })

  it('a value starting with "-" is refused where a program would read an option: ssh -oProxyCommand, --help to psql', async () => {
    const t = {
      apiVersion: 'migrate/v1',
      kind: 'RunbookTemplate',
      metadata: {name: 't', params: {url: 'postgresql://h/db'}},
      steps: [
        {id: 'ssh', run: ['ssh', '{{ server.hostname }}', 'true']},
        {id: 'psql', run: ['psql', '--dbname', '{{ params.url }}', '-c', 'SELECT 1']},
        {id: 'after-dashdash', run: ['echo', '--', '{{ server.hostname }}']},
      ],
    }
    const dir = makePlanDir({
      apps: [
        {
          name: 'a',
          template: 't',
          params: {url: '--help'},
          servers: [{id: 's1', hostname: '-oProxyCommand=touch /tmp/pwned'}],
        },
      ],
      templates: {t},
    })
    const err = (await executeWave({planDir: dir, wave: 1, dryRun: true, deps: {which: () => true}}).catch(
      (e) => e,
    )) as MigrateError
    expect(err.code).toBe('PREFLIGHT_BLOCKED')
    const got = err.diagnostics
      .filter((x) => x.code === 'OPTION_LIKE_VALUE')
      .map((x) => [x.message.split(':')[0], x.line])
    expect(got.map((g) => g[0])).toEqual(['a/ssh', 'a/psql'])
    for (const g of got) expect(g[1]).toBeGreaterThan(0)
  })
})

describe('a template given as a path', () => {
  it('is relative to the plan directory, as docs/execute.md says: validate and execute agree; a path out of the plan is refused by both', async () => {
    const t = {
      apiVersion: 'migrate/v1',
      kind: 'RunbookTemplate',
      metadata: {name: 'mine'},
      steps: [{id: 'one', run: ['true']}],
    }
    const dir = makePlanDir({apps: [{name: 'a', template: 'runbooks/mine.yaml'}]})
    mkdirSync(path.join(dir, 'runbooks'))
    writeFileSync(path.join(dir, 'runbooks/mine.yaml'), JSON.stringify(t))
    const v = await execa(
      process.execPath,
      [path.join(ROOT, 'bin/run.js'), 'validate', path.join(dir, 'plan.yaml'), '--json'],
      {reject: false},
    )
    expect(v.exitCode, v.stdout).toBe(0)
    const r = await executeWave({planDir: dir, wave: 1})
    expect(r.exitCode).toBe(0)
    // Out of the plan directory: refused by validate (file:line) and by execute, even though the file exists.
    const dir2 = makePlanDir({apps: [{name: 'a', template: '../outside.yaml'}]})
    writeFileSync(path.join(dir2, '../outside.yaml'), JSON.stringify(t))
    const v2 = await execa(
      process.execPath,
      [path.join(ROOT, 'bin/run.js'), 'validate', path.join(dir2, 'plan.yaml'), '--json'],
      {reject: false},
    )
    expect(v2.exitCode).toBe(64)
    const d = JSON.parse(v2.stdout).error.diagnostics.find((x: {code: string}) => x.code === 'TEMPLATE_OUTSIDE_PLAN')
    expect(d?.line).toBeGreaterThan(0)
    const err = (await executeWave({planDir: dir2, wave: 1}).catch((e) => e)) as MigrateError
    expect(err.diagnostics.map((x) => x.code)).toContain('TEMPLATE_OUTSIDE_PLAN')
    rmSync(path.join(dir2, '../outside.yaml'))
  })
})
