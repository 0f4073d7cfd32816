// YAML as a user meets it through the CLI: an alias bomb or a huge document is a clear located error with exit 64
// (it was INTERNAL, "a bug in migrate"), and `discover file --out` over a hand-edited inventory writes back what
// the file says (it wrote `owner: " platform"` for `owner:  platform`).
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {parse} from 'yaml'
import {afterAll, describe, expect, it} from 'vitest'
import {readYaml} from '../../src/io/yaml-read.js'
import {migrate, tempDir} from '../discover/helpers.js'
import {EXAMPLE} from './yaml-corpus.js'

const tmp = tempDir('migrate-yaml-cli-')
afterAll(() => tmp.cleanup())

/** An inventory whose header is fine and whose x: value is a billion laughs (10^12 values when expanded). */
function bomb(): string {
  const lines = [
    'apiVersion: migrate/v1',
    'kind: Inventory',
    'metadata:',
    '  name: bomb',
    'x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]',
  ]
  for (let i = 1; i <= 12; i++) lines.push(`x${i}: &a${i} [${Array.from({length: 10}, () => `*a${i - 1}`).join(', ')}]`)
  return [...lines, 'servers: []', ''].join('\n')
}

describe('an alias bomb', () => {
  const file = path.join(tmp.dir, 'inventory.yaml')
  writeFileSync(file, bomb())
  const expectRefused = (r: {exitCode?: number; stderr: string}) => {
    expect(r.exitCode).toBe(64)
    expect(r.stderr).toMatch(
      /inventory\.yaml:6:10: error YAML_ALIAS_LIMIT: aliases expand this document by more than 1,000,000 values/,
    )
    expect(r.stderr).not.toMatch(/INTERNAL|This is a bug|\n\s+at /)
  }

  it('is refused by validate, at its first alias, exit 64', async () => {
    const r = await migrate(['validate', file])
    expectRefused(r)
    expect(r.stderr).not.toContain('UNKNOWN_KIND')
  })

  it('is refused by discover file, which writes nothing', async () => {
    const out = path.join(tmp.dir, 'out', 'inventory.yaml')
    expectRefused(await migrate(['discover', 'file', file, '--out', out]))
    expect(existsSync(out)).toBe(false)
  })

  it('is refused by plan', async () => {
    expectRefused(await migrate(['plan', '--plan', tmp.dir, '--inventory', file, '--start', '2027-01-04']))
  })
})

describe('a hand-edited inventory through discover --out', () => {
  // The edits of the issue: two spaces after a colon, a space before one, comments after values, a quoted # and a
  // block scalar kept with |+ in a description.
  const edited = readFileSync(EXAMPLE, 'utf8')
    .replace('    owner: platform', '    owner:  platform # the platform team')
    .replace('      env: prod', '      env : prod')
    .replace(/^( {4}vcpus: \d+)$/m, '$1 # cores')
    .replace('    owner: identity', '    owner: "identity # team"')
    .replace(/^ {2}description: .*$/m, '  description: |+\n    A marketplace estate.\n\n')
  const input = path.join(tmp.dir, 'edited.yaml')
  writeFileSync(input, edited)

  it('writes back what was read, not what a misreading made of it', async () => {
    const out = path.join(tmp.dir, 'roundtrip', 'inventory.yaml')
    const r = await migrate(['discover', 'file', input, '--out', out])
    expect(r.stderr).not.toMatch(/INTERNAL/)
    expect(r.exitCode).toBe(0)
    const written = readFileSync(out, 'utf8')
    expect(written).not.toContain('" platform"')
    expect(written).not.toMatch(/env :|"env "/)
    const before = parse(edited) as {
      applications: {name: string; owner: string}[]
      servers: {id: string; tags: Record<string, string>; vcpus: number}[]
    }
    const after = readYaml(written) as typeof before
    const owners = (apps: {name: string; owner: string}[]) => Object.fromEntries(apps.map((a) => [a.name, a.owner]))
    expect(owners(after.applications)).toEqual(owners(before.applications))
    expect(owners(after.applications)['api-gateway']).toBe('platform')
    expect(owners(after.applications)['user-auth']).toBe('identity # team')
    for (const s of before.servers) {
      const w = after.servers.find((x) => x.id === s.id)!
      expect(w.tags).toEqual(s.tags)
      expect(w.vcpus).toBe(s.vcpus)
    }
    expect(after.servers.find((x) => x.id === before.servers[0].id)!.tags.env).toBe('prod')
  })
})
