// Applications, roles and environments derived from tags (keys configurable, default app/role/env), and the rule
// (--assign-by) for servers without an app tag. Servers that still have no application go to `unassigned`.
import {badInput} from '../errors.js'
import type {Application, Server} from '../schema/inventory.js'
import {ServerRole} from '../schema/inventory.js'
import type {Environment} from '../schema/common.js'

export interface TagKeys {
  app: string
  role: string
  env: string
}
export const DEFAULT_TAG_KEYS: TagKeys = {app: 'app', role: 'role', env: 'env'}

/** How to name the application of a server that has no app tag. */
export type AssignRule = {kind: 'tag'; key: string} | {kind: 'name-prefix'} | {kind: 'regex'; re: RegExp}

/** Parses --assign-by: `tag:KEY`, `name-prefix`, or `regex:PATTERN` (the first capture group is the app). */
export function parseAssignRule(text: string): AssignRule {
  if (text === 'name-prefix') return {kind: 'name-prefix'}
  if (text.startsWith('tag:') && text.length > 4) return {kind: 'tag', key: text.slice(4)}
  if (text.startsWith('regex:')) {
    let re: RegExp
    try {
      re = new RegExp(text.slice(6))
    } catch (error) {
      throw badInput(
        `--assign-by ${text}: not a valid regular expression (${(error as Error).message})`,
        'BAD_ASSIGN_RULE',
        'Write e.g. --assign-by "regex:^([a-z]+)-" (the first group names the application)',
      )
    }
    return {kind: 'regex', re}
  }
  throw badInput(
    `--assign-by ${text}: unknown rule`,
    'BAD_ASSIGN_RULE',
    'Use tag:KEY, name-prefix, or regex:PATTERN (first capture group = application)',
  )
}

/** Parses --tag-key app=Application (repeatable) onto the defaults. */
export function parseTagKeys(pairs: readonly string[]): TagKeys {
  const keys = {...DEFAULT_TAG_KEYS}
  for (const p of pairs) {
    const m = /^(app|role|env)=(.+)$/.exec(p)
    if (!m)
      throw badInput(
        `--tag-key ${p}: expected app=KEY, role=KEY or env=KEY`,
        'BAD_TAG_KEY',
        'For example --tag-key app=Application --tag-key env=Environment',
      )
    keys[m[1] as keyof TagKeys] = m[2]
  }
  return keys
}

/** An application name usable as an id: lower case, spaces and odd characters become '-'. */
export function slug(s: string): string {
  return s
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|-+$/g, '')
    .slice(0, 128)
}

const ENV_WORDS: Record<string, Environment> = {
  prod: 'prod',
  production: 'prod',
  prd: 'prod',
  live: 'prod',
  p: 'prod',
  staging: 'staging',
  stage: 'staging',
  stg: 'staging',
  preprod: 'staging',
  'pre-prod': 'staging',
  uat: 'staging',
  test: 'test',
  testing: 'test',
  qa: 'test',
  tst: 'test',
  sit: 'test',
  dev: 'dev',
  development: 'dev',
  develop: 'dev',
  sandbox: 'dev',
  lab: 'dev',
}
export function normaliseEnv(v: string | undefined): Environment | undefined {
  return v ? ENV_WORDS[v.trim().toLowerCase()] : undefined
}

const ROLE_WORDS: Record<string, Server['role']> = {
  frontend: 'web',
  www: 'web',
  nginx: 'web',
  http: 'web',
  backend: 'app',
  application: 'app',
  service: 'api',
  db: 'database',
  postgres: 'database',
  postgresql: 'database',
  mysql: 'database',
  mariadb: 'database',
  sql: 'database',
  redis: 'cache',
  memcached: 'cache',
  kafka: 'queue',
  rabbitmq: 'queue',
  mq: 'queue',
  elasticsearch: 'search',
  loadbalancer: 'lb',
  haproxy: 'lb',
  job: 'batch',
  jobs: 'batch',
  cron: 'batch',
  nfs: 'storage',
  file: 'storage',
}
export function normaliseRole(v: string | undefined): Server['role'] | undefined {
  if (!v) return undefined
  const w = v.trim().toLowerCase()
  const parsed = ServerRole.safeParse(w)
  if (parsed.success) return parsed.data
  return ROLE_WORDS[w] ?? 'other'
}

function ruleApp(s: Server, rule: AssignRule | undefined): string | undefined {
  if (!rule) return undefined
  switch (rule.kind) {
    case 'tag':
      return s.tags[rule.key] || undefined
    case 'name-prefix': {
      const m = /^([A-Za-z][A-Za-z0-9]*?)(?:[-_.]|\d|$)/.exec(s.name)
      return m?.[1]
    }
    case 'regex':
      return rule.re.exec(s.name)?.[1]
  }
}

/** What the previous inventory said of a server found again (hand edits included). */
export type Assignment = Pick<Server, 'application' | 'role' | 'environment'>

/** The application a server's app tag names, as a slug (an empty slug is no application). */
function tagApp(s: Server, keys: TagKeys): string | undefined {
  const v = s.tags[keys.app]
  return v ? slug(v) || undefined : undefined
}

/** The application the assign rule gives a server, as a slug. */
function ruleAppSlug(s: Server, rule: AssignRule | undefined): string | undefined {
  const v = ruleApp(s, rule)
  return v ? slug(v) || undefined : undefined
}

/** What a server's tags (and the assign rule) alone make of it, without what a source or a person set. */
export function derivedAssignment(s: Server, keys: TagKeys, rule?: AssignRule): Assignment {
  return {
    application: tagApp(s, keys) ?? ruleAppSlug(s, rule),
    role: normaliseRole(s.tags[keys.role]),
    environment: normaliseEnv(s.tags[keys.env]),
  }
}

/**
 * The part of a previous record's assignment its tags and the rule do not explain: what a person set (or an earlier
 * rule). That is what a server found again keeps; what came from tags follows the tags.
 */
export function handAssignment(p: Server, keys: TagKeys, rule?: AssignRule): Assignment | undefined {
  const d = derivedAssignment(p, keys, rule)
  const a: Assignment = {}
  if (p.application && p.application !== d.application) a.application = p.application
  if (p.role && p.role !== d.role) a.role = p.role
  if (p.environment && p.environment !== d.environment) a.environment = p.environment
  return a.application || a.role || a.environment ? a : undefined
}

/**
 * Sets application/role/environment on each server. The first that has a value wins: what the source itself set,
 * the server's tags, what the previous inventory said of it (so a hand assignment survives the next discover), then
 * the assign rule. Returns the applications seen, with the most common environment.
 */
export function assignServers(
  servers: Server[],
  keys: TagKeys,
  rule?: AssignRule,
  previous?: ReadonlyMap<string, Assignment>,
): Application[] {
  const envVotes = new Map<string, Map<Environment, number>>()
  for (const s of servers) {
    const before = previous?.get(s.id)
    const app = s.application ?? tagApp(s, keys) ?? before?.application ?? ruleAppSlug(s, rule)
    // Assign only defined values: deleting properties would turn 10,000 objects into slow dictionary-mode ones.
    if (app) s.application = app
    const role = s.role ?? normaliseRole(s.tags[keys.role]) ?? before?.role
    if (role) s.role = role
    const env = s.environment ?? normaliseEnv(s.tags[keys.env]) ?? before?.environment
    if (env) s.environment = env
    if (s.application) {
      const votes = envVotes.get(s.application) ?? new Map<Environment, number>()
      if (s.environment) votes.set(s.environment, (votes.get(s.environment) ?? 0) + 1)
      envVotes.set(s.application, votes)
    }
  }
  return [...envVotes.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, votes]) => {
      const env = [...votes.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? 'prod'
      return {name, criticality: 'medium', environment: env, complexity: 'medium', tags: {}} satisfies Application
    })
}
