// Small plan directories for executor tests: plan.yaml + inventory.yaml (+ templates/) in a temp dir.
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {stringify} from 'yaml'

export interface AppSpec {
  name: string
  template: string
  owner?: string
  params?: Record<string, string>
  servers?: {id: string; name?: string; hostname?: string; ip?: string}[]
  databases?: {id: string; engine: string; host?: string; port?: number; template?: string}[]
}

export interface PlanSpec {
  apps: AppSpec[]
  templates?: Record<string, unknown>
  wave?: number
}

export function makePlanDir(spec: PlanSpec, dir = mkdtempSync(path.join(os.tmpdir(), 'migrate-exec-'))): string {
  const wave = spec.wave ?? 1
  const inventory = {
    apiVersion: 'migrate/v1',
    kind: 'Inventory',
    metadata: {name: 'test'},
    applications: spec.apps.map((a) => ({
      name: a.name,
      owner: a.owner ?? 'team-' + a.name,
      criticality: 'medium',
      environment: 'prod',
    })),
    servers: spec.apps.flatMap((a) =>
      (a.servers ?? []).map((s) => ({
        id: s.id,
        name: s.name ?? s.id,
        hostname: s.hostname,
        provider: 'onprem',
        privateIps: s.ip ? [s.ip] : [],
        vcpus: 2,
        memoryMiB: 4096,
        os: {family: 'linux'},
        application: a.name,
      })),
    ),
    databases: spec.apps.flatMap((a) =>
      (a.databases ?? []).map((d) => ({
        id: d.id,
        name: d.id,
        engine: d.engine,
        host: d.host,
        port: d.port,
        sizeGiB: 10,
        application: a.name,
      })),
    ),
  }
  const invText = stringify(inventory)
  writeFileSync(path.join(dir, 'inventory.yaml'), invText)
  const digest = createHash('sha256').update(invText).digest('hex')
  const plan = {
    apiVersion: 'migrate/v1',
    kind: 'Plan',
    metadata: {name: 'test', inventory: 'inventory.yaml', inventoryDigest: digest},
    settings: {startDate: '2026-01-05'},
    waves: [
      {
        number: wave,
        name: `wave ${wave}`,
        applications: spec.apps.map((a) => a.name),
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
    applications: spec.apps.map((a) => ({
      name: a.name,
      wave,
      moveGroup: a.name,
      strategy: 'rehost',
      template: a.template,
      target: {cloud: 'aws', region: 'ap-southeast-3'},
      servers: (a.servers ?? []).map((s) => ({id: s.id, instanceType: 't3.small', vcpus: 2, memoryMiB: 2048})),
      databases: (a.databases ?? []).map((d) => ({
        id: d.id,
        service: 'aws:rds-postgres',
        instanceClass: 'db.t3.medium',
        ...(d.template ? {template: d.template} : {}),
      })),
      params: a.params ?? {},
    })),
  }
  writeFileSync(path.join(dir, 'plan.yaml'), stringify(plan))
  if (spec.templates) {
    mkdirSync(path.join(dir, 'templates'), {recursive: true})
    for (const [name, t] of Object.entries(spec.templates))
      writeFileSync(path.join(dir, 'templates', `${name}.yaml`), typeof t === 'string' ? t : stringify(t))
  }
  return dir
}

export function template(
  name: string,
  steps: unknown[],
  params: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {apiVersion: 'migrate/v1', kind: 'RunbookTemplate', metadata: {name, params}, ...extra, steps}
}

export function lines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
}

export const NODE = process.execPath
