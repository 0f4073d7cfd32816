// Semantic checks of an inventory that a schema cannot express: unique ids, references that resolve.
import {closestNames} from '../suggest.js'
import type {Inventory} from '../schema/inventory.js'
import type {PathIssue} from '../schema/issues.js'

export function checkInventory(inv: Inventory): PathIssue[] {
  const ids: Ids = {apps: new Map(), nodes: new Map(), serverIds: new Set()}
  return [
    ...applicationIssues(inv, ids),
    ...serverIssues(inv, ids),
    ...databaseIssues(inv, ids),
    ...dependencyIssues(inv, ids),
    ...unassignedIssues(inv, ids),
  ]
}

/** The ids seen so far, filled in the order of the checks. */
interface Ids {
  /** Application name → its first index. */
  apps: Map<string, number>
  /** Every id (applications, servers, databases share one namespace) → what it is. */
  nodes: Map<string, string>
  serverIds: Set<string>
}

/** Application names defined twice. */
function applicationIssues(inv: Inventory, ids: Ids): PathIssue[] {
  const issues: PathIssue[] = []
  inv.applications.forEach((a, i) => {
    if (ids.apps.has(a.name))
      issues.push({
        path: ['applications', i, 'name'],
        code: 'DUPLICATE_ID',
        message: `application "${a.name}" is defined twice (also applications[${ids.apps.get(a.name)}])`,
        hint: 'Give each application a unique name',
      })
    else ids.apps.set(a.name, i)
    ids.nodes.set(a.name, 'application')
  })
  return issues
}

/** Server ids already used, and servers of an unknown application. */
function serverIssues(inv: Inventory, ids: Ids): PathIssue[] {
  const issues: PathIssue[] = []
  const {apps, nodes} = ids
  inv.servers.forEach((s, i) => {
    if (nodes.has(s.id))
      issues.push({
        path: ['servers', i, 'id'],
        code: 'DUPLICATE_ID',
        message: `id "${s.id}" is already used by ${nodes.get(s.id) === 'server' ? 'another server' : `an ${nodes.get(s.id)}`}`,
        hint: 'Ids of applications, servers and databases share one namespace: make it unique',
      })
    nodes.set(s.id, 'server')
    ids.serverIds.add(s.id)
    if (s.application !== undefined && !apps.has(s.application))
      issues.push(unknownApp(['servers', i, 'application'], s.application, apps))
  })
  return issues
}

/** Database ids already used, and databases of an unknown application or on an unknown server. */
function databaseIssues(inv: Inventory, ids: Ids): PathIssue[] {
  const issues: PathIssue[] = []
  const {apps, nodes} = ids
  inv.databases.forEach((d, i) => {
    if (nodes.has(d.id))
      issues.push({
        path: ['databases', i, 'id'],
        code: 'DUPLICATE_ID',
        message: `id "${d.id}" is already used by a ${nodes.get(d.id)}`,
        hint: 'Ids of applications, servers and databases share one namespace: make it unique',
      })
    nodes.set(d.id, 'database')
    if (d.application !== undefined && !apps.has(d.application))
      issues.push(unknownApp(['databases', i, 'application'], d.application, apps))
    if (d.serverId !== undefined && !ids.serverIds.has(d.serverId))
      issues.push({
        path: ['databases', i, 'serverId'],
        code: 'UNKNOWN_SERVER',
        message: `database "${d.id}" runs on server "${d.serverId}", which is not in the inventory`,
        hint: 'Add the server or remove serverId',
      })
  })
  return issues
}

/** Dependency ends that name no id of the inventory, and dependencies on oneself. */
function dependencyIssues(inv: Inventory, ids: Ids): PathIssue[] {
  const issues: PathIssue[] = []
  const {nodes} = ids
  inv.dependencies.forEach((dep, i) => {
    for (const end of ['from', 'to'] as const) {
      const ref = dep[end]
      if (!nodes.has(ref)) {
        const near = nearest(ref, [...nodes.keys()])
        issues.push({
          path: ['dependencies', i, end],
          code: 'UNKNOWN_REFERENCE',
          message: `dependency ${end} "${ref}" is not an application, server or database of this inventory`,
          hint: near
            ? `Did you mean "${near}"?`
            : 'Name an application, or a server or database id defined in this file',
        })
      }
    }
    if (dep.from === dep.to)
      issues.push({
        path: ['dependencies', i],
        code: 'SELF_DEPENDENCY',
        message: `"${dep.from}" depends on itself`,
        hint: 'Remove this dependency',
        severity: 'warning',
      })
  })
  return issues
}

/** Unassigned ids that are no server, and servers that belong to no application without being listed unassigned. */
function unassignedIssues(inv: Inventory, ids: Ids): PathIssue[] {
  const issues: PathIssue[] = []
  const unassigned = new Set(inv.unassigned)
  inv.unassigned.forEach((id, i) => {
    if (!ids.serverIds.has(id))
      issues.push({
        path: ['unassigned', i],
        code: 'UNKNOWN_SERVER',
        message: `unassigned server "${id}" is not in servers`,
        hint: 'Remove it from unassigned',
      })
  })
  inv.servers.forEach((s, i) => {
    if (s.application === undefined && !unassigned.has(s.id))
      issues.push({
        path: ['servers', i],
        code: 'SERVER_WITHOUT_APP',
        severity: 'warning',
        message: `server "${s.id}" belongs to no application and is not listed in unassigned`,
        hint: 'Set its application, or list it under unassigned',
      })
  })
  return issues
}

function unknownApp(path: PathIssue['path'], name: string, apps: Map<string, number>): PathIssue {
  const near = nearest(name, [...apps.keys()])
  return {
    path,
    code: 'UNKNOWN_APP',
    message: `application "${name}" is not defined in applications`,
    hint: near
      ? `Did you mean "${near}"? Otherwise add it under applications`
      : 'Add it under applications, or fix the name',
  }
}

/** The closest candidate by edit distance, if it is close enough to be a likely typo (the rule of src/suggest.ts). */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  return closestNames(word, candidates, 1)[0]
}
