// The help a newcomer reads first: the root lists each topic with its own description (not one of its commands'),
// and `migrate db --help` puts what a person types (the lab, the checks) before the steps the templates call.
import {execa} from 'execa'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

const BIN = path.resolve(import.meta.dirname, '../../bin/run.js')
const help = async (...args: string[]) =>
  (await execa('node', [BIN, ...args], {env: {NO_COLOR: '1', COLUMNS: '120'}})).stdout

describe('help', () => {
  it('the root help describes the db topic as a whole', async () => {
    const out = await help('--help')
    expect(out).toMatch(/db\s+Database migration helpers: a local lab/)
    expect(out).not.toMatch(/db\s+Point an HAProxy backend server/)
  })

  it('db --help: the lab and the checks first, then every template step once, by engine', async () => {
    const out = await help('db', '--help')
    const lab = out.indexOf('TRY A REAL DATABASE MIGRATION')
    const checks = out.indexOf('CHECKS TO RUN')
    const steps = out.indexOf('STEPS THE DATABASE TEMPLATES CALL')
    expect(lab).toBeGreaterThan(0)
    expect(checks).toBeGreaterThan(lab)
    expect(steps).toBeGreaterThan(checks)
    expect(out.slice(lab, checks)).toMatch(/db lab up\s+Start a local estate/)
    expect(out.slice(checks, steps)).toMatch(/db preflight\s+Find what breaks/)
    for (const engine of ['PostgreSQL', 'MariaDB', 'Redis', 'PgBouncer', 'HAProxy'])
      expect(out.slice(steps)).toMatch(new RegExp(`^  ${engine}\\s+\\S`, 'm'))
    // Every db command appears.
    const manifest = (
      await import(path.resolve(import.meta.dirname, '../../oclif.manifest.json'), {with: {type: 'json'}})
    ).default as {commands: Record<string, {hidden?: boolean}>}
    const ids = Object.keys(manifest.commands).filter((id) => id.startsWith('db:') && !manifest.commands[id].hidden)
    for (const id of ids) {
      const name = id.slice(3).replaceAll(':', ' ')
      const count = out.split(/[\s,]+/).filter((w) => w === name || w === name.split(' ').at(-1)).length
      expect(count, name).toBeGreaterThanOrEqual(1)
    }
  })

  it('db lab --help has its own description', async () => {
    const out = await help('db', 'lab', '--help')
    expect(out.split('\n')[0]).toMatch(/^A local estate to migrate for real/)
  })
})
