// The example plan checked in (plans/example/plan.yaml, what README and `npm run example` show people) is what
// `migrate plan` makes of the example's inventory and settings today: a planner change that alters it shows here,
// and the plan is regenerated with it, not left to drift.
import {copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, expect, it} from 'vitest'
import Plan from '../../commands/plan.js'
import {runCommand} from '../helpers/in-process.js'

const root = path.resolve(import.meta.dirname, '../..')
const example = path.join(root, 'plans/example')
const tmp = mkdtempSync(path.join(os.tmpdir(), 'migrate-example-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

/** A plan's text without its first line (the editor's schema comment, relative to where the plan is). */
const body = (text: string) => text.slice(text.indexOf('\n') + 1)

it('plans/example/plan.yaml is what `migrate plan` writes for the example today', async () => {
  // A directory named as the example's, so that the plan's name (from the directory) is the same.
  const dir = path.join(tmp, 'example')
  mkdirSync(dir)
  for (const f of ['inventory.yaml', 'settings.yaml']) copyFileSync(path.join(example, f), path.join(dir, f))
  const r = await runCommand(Plan, ['--plan', dir], {MIGRATE_PLAN: ''})
  expect(r.exitCode, r.stderr).toBe(0)
  const fresh = readFileSync(path.join(dir, 'plan.yaml'), 'utf8')
  const committed = readFileSync(path.join(example, 'plan.yaml'), 'utf8')
  expect(committed.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=/)
  expect(body(committed), 'regenerate it: npm run example (or migrate plan --plan plans/example)').toBe(body(fresh))
})
