import {execa} from 'execa'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {resolvePlanDir} from '../../src/cli/plan-dir.js'
import {writeFileAtomic} from '../../src/io/atomic.js'
import {schemaHeader} from '../../src/io/write-yaml.js'
import {KIND_NAMES, jsonSchemaOf} from '../../src/schema/kinds.js'

describe('JSON Schema generated from zod', () => {
  it.each(KIND_NAMES)(
    'plans/schemas/%s.schema.json is up to date with the zod schema (run `npm run schemas`)',
    (kind) => {
      const committed = JSON.parse(readFileSync(`plans/schemas/${kind}.schema.json`, 'utf8'))
      expect(committed).toEqual(JSON.parse(JSON.stringify(jsonSchemaOf(kind))))
    },
  )

  it('describes real constraints an editor can check', () => {
    const s = jsonSchemaOf('inventory') as {properties: Record<string, any>}
    const strategy = s.properties.applications.items.properties.strategyHint
    expect(strategy.enum).toEqual(['rehost', 'replatform', 'refactor', 'repurchase', 'relocate', 'retain', 'retire'])
    expect(s.properties.servers.items.required).toEqual(expect.arrayContaining(['id', 'vcpus', 'memoryMiB', 'os']))
  })

  it('`migrate schema plan --json` prints the schema inside the envelope', async () => {
    const r = await execa('node', ['bin/run.js', 'schema', 'plan', '--json'], {reject: false})
    expect(r.exitCode).toBe(0)
    const body = JSON.parse(r.stdout)
    expect(body.status).toBe(0)
    expect(body.result.schema.properties.kind.const).toBe('Plan')
  })

  it('the header of written YAML points editors at the schema, relative to the file', () => {
    expect(schemaHeader('plan', path.resolve('plans/example/plan.yaml'))).toBe(
      '# yaml-language-server: $schema=../schemas/plan.schema.json\n',
    )
  })
})

describe('atomic writes', () => {
  it('replaces a file whole and leaves no temp files behind', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mig-atomic-'))
    const file = path.join(dir, 'plan.yaml')
    writeFileSync(file, 'old\n')
    writeFileAtomic(file, 'new content\n')
    expect(readFileSync(file, 'utf8')).toBe('new content\n')
    expect(readdirSync(dir)).toEqual(['plan.yaml'])
  })

  it('leaves the old file untouched when the write fails', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mig-atomic-'))
    const file = path.join(dir, 'plan.yaml')
    writeFileSync(file, 'old\n')
    // A directory where the temp file's rename target should be: rename fails, the old content stays.
    const blocked = path.join(dir, 'sub')
    mkdirSync(blocked)
    expect(() => writeFileAtomic(blocked, 'x')).toThrow()
    expect(readFileSync(file, 'utf8')).toBe('old\n')
    expect(readdirSync(dir).sort()).toEqual(['plan.yaml', 'sub'])
  })

  it('a writer that throws half-way leaves the old file and no temp file; a nested write of the same file is its own', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mig-atomic-'))
    const file = path.join(dir, 'inventory.yaml')
    writeFileSync(file, 'old\n')
    expect(() =>
      writeFileAtomic(file, (write) => {
        write('half of the new\n')
        throw new Error('source went away')
      }),
    ).toThrow('source went away')
    expect(readFileSync(file, 'utf8')).toBe('old\n')
    expect(readdirSync(dir)).toEqual(['inventory.yaml'])
    // Same file, same millisecond, from inside the writer: the outer write still lands whole.
    writeFileAtomic(file, (write) => {
      write('OUTER-1\n')
      writeFileAtomic(file, 'INNER\n')
      write('OUTER-2\n')
    })
    expect(readFileSync(file, 'utf8')).toBe('OUTER-1\nOUTER-2\n')
    expect(readdirSync(dir)).toEqual(['inventory.yaml'])
    expect(() => writeFileAtomic(file, (async () => {}) as never)).toThrow(/synchronous/)
    expect(readFileSync(file, 'utf8')).toBe('OUTER-1\nOUTER-2\n')
  })
})

describe('plan directory resolution', () => {
  it('uses the only plan directory under ./plans, and asks when there are several', () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'mig-plans-'))
    mkdirSync(path.join(cwd, 'plans/a'), {recursive: true})
    writeFileSync(path.join(cwd, 'plans/a/inventory.yaml'), '')
    mkdirSync(path.join(cwd, 'plans/schemas'))
    const saved = process.env.MIGRATE_PLAN
    delete process.env.MIGRATE_PLAN
    try {
      expect(resolvePlanDir(undefined, cwd)).toBe(path.join(cwd, 'plans/a'))
      mkdirSync(path.join(cwd, 'plans/b'))
      writeFileSync(path.join(cwd, 'plans/b/inventory.yaml'), '')
      expect(() => resolvePlanDir(undefined, cwd)).toThrow(/several: a, b/)
      expect(resolvePlanDir('plans/b', cwd)).toBe(path.join(cwd, 'plans/b'))
      expect(existsSync(path.join(cwd, 'plans/b'))).toBe(true)
    } finally {
      if (saved !== undefined) process.env.MIGRATE_PLAN = saved
    }
  })
})
