// How `migrate status` reads: a wave nobody started is one line; a started wave (or --wave N) lists its units.
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {executeWave} from '../../src/executor/engine.js'
import {formatStatus} from '../../src/executor/view.js'
import {planStatus} from '../../src/executor/plan-status.js'
import {makePlanDir, NODE, template} from './helpers.js'

const EXAMPLE = path.resolve(import.meta.dirname, '../../plans/example')

describe('status view', () => {
  it('an untouched 12-wave plan is one line per wave, naming its applications', () => {
    const text = formatStatus(planStatus(EXAMPLE))
    const waves = text.split('\n').filter((l) => l.startsWith('Wave '))
    expect(waves).toHaveLength(12)
    expect(waves[0]).toBe('Wave 1 (Pilot): pending — 1 application (7 units): dev-sandbox')
    expect(text).not.toMatch(/^ {2}\S/m)
    // --wave N: its units, one per line.
    const one = formatStatus(planStatus(EXAMPLE, {wave: 1}))
    expect(one.split('\n').filter((l) => l.startsWith('  dev-sandbox'))).toHaveLength(7)
  })

  it('a started wave lists its units with their steps', async () => {
    const dir = makePlanDir({
      apps: [{name: 'a', template: 't'}],
      templates: {t: template('t', [{id: 'one', run: [NODE, '-e', '']}])},
    })
    await executeWave({planDir: dir, wave: 1})
    const text = formatStatus(planStatus(dir))
    expect(text).toContain('Wave 1 (wave 1): done — 1 done')
    expect(text).toContain('  a: done (1/1 steps')
  })
})
