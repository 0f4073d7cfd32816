// A plan directory for the execute benches: one wave of `apps` applications, each with `steps` trivial steps
// (`true APP`, idempotent, with a rollback), cut over on a Saturday inside the default window.
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {stringify} from 'yaml'

export function wavePlanDir({apps, steps, name = 'bench'}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'migrate-bench-'))
  const inv = stringify({
    apiVersion: 'migrate/v1',
    kind: 'Inventory',
    metadata: {name: 'bench'},
    applications: apps.map((a) => ({name: a})),
  })
  writeFileSync(path.join(dir, 'inventory.yaml'), inv)
  const plan = {
    apiVersion: 'migrate/v1',
    kind: 'Plan',
    metadata: {name, inventory: 'inventory.yaml', inventoryDigest: createHash('sha256').update(inv).digest('hex')},
    settings: {
      startDate: '2026-01-05',
      capacity: {apps: 1000, servers: 10000, dataTiB: 1000, critical: 1000},
      ramp: {earlyWaves: 0, earlyServers: 10},
    },
    waves: [
      {
        number: 1,
        name: 'bench',
        applications: apps,
        replicationStart: '2026-01-05T00:00:00Z',
        test: {start: '2026-01-10T00:00:00Z', end: '2026-01-12T00:00:00Z'},
        cutover: {start: '2026-01-17T01:00:00Z', end: '2026-01-17T05:00:00Z'},
        servers: 0,
        databases: 0,
        dataGiB: 0,
        risk: 'low',
        confidence: 3,
      },
    ],
    applications: apps.map((a) => ({
      name: a,
      wave: 1,
      moveGroup: a,
      strategy: 'rehost',
      template: 'trivial',
      target: {cloud: 'aws', region: 'ap-southeast-3'},
    })),
  }
  writeFileSync(path.join(dir, 'plan.yaml'), stringify(plan))
  mkdirSync(path.join(dir, 'templates'))
  const list = Array.from({length: steps}, (_, i) => ({
    id: `step-${i + 1}`,
    run: ['true', '{{ app.name }}', 'wave-{{ wave.number }}'],
    rollback: ['true'],
    idempotent: true,
  }))
  writeFileSync(
    path.join(dir, 'templates', 'trivial.yaml'),
    stringify({apiVersion: 'migrate/v1', kind: 'RunbookTemplate', metadata: {name: 'trivial'}, steps: list}),
  )
  return dir
}
