// Cell values the formats share: lists, tags, OS family, power state, disks and utilisation.
import type {Strategy} from '../../schema/common.js'
import type {Server} from '../../schema/inventory.js'

export const STRATEGIES: Record<string, Strategy | undefined> = {
  rehost: 'rehost',
  replatform: 'replatform',
  refactor: 'refactor',
  rearchitect: 'refactor',
  repurchase: 'repurchase',
  relocate: 'relocate',
  retain: 'retain',
  retire: 'retire',
}

export function splitList(s: string | undefined): string[] {
  return (s ?? '')
    .split(/[;,\s]+/)
    .map((x) => x.trim())
    .filter(Boolean)
}

/** "k=v;k2=v2" or "k:v, k2:v2" → record. */
export function parseTags(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  // Split at ; , | only where a new key=value starts, so values may contain commas.
  for (const part of (s ?? '').split(/[;,|]\s*(?=[^=:;,|]+[=:])/)) {
    const m = /^\s*([^=:]+?)\s*[=:]\s*(.*?)\s*$/.exec(part)
    if (m?.[1]) out[m[1]] = m[2]
  }
  return out
}

export function osFamily(name: string | undefined, family?: string): Server['os']['family'] {
  const s = `${family ?? ''} ${name ?? ''}`.toLowerCase()
  if (/windows/.test(s)) return 'windows'
  if (/linux|centos|red ?hat|rhel|ubuntu|debian|suse|sles|oracle|rocky|alma|amazon|alpine|fedora|unix/.test(s))
    return 'linux'
  return 'other'
}

/** The OS of a row: its family from the name (and family column), with name and version when given. */
export function osOf(name: string | undefined, version?: string, family?: string): Server['os'] {
  return {
    family: osFamily(name, family),
    ...(name ? {name} : {}),
    ...(version ? {version} : {}),
  }
}

export function powerState(s: string | undefined): Server['state'] {
  const v = (s ?? '').trim().toLowerCase()
  if (v === '' || /^(running|poweredon|on|up|active|in ?use|live)$/.test(v)) return 'running'
  if (/^(stopped|poweredoff|off|down|suspended|inactive|shutdown)$/.test(v)) return 'stopped'
  if (/^(terminated|decommissioned|retired|deleted)$/.test(v)) return 'terminated'
  return 'unknown'
}

/** `{utilization: …}` to spread into a server when either percentage is known (capped at 100), else nothing. */
export function utilizationOf(cpu: number | undefined, memory: number | undefined): Pick<Server, 'utilization'> {
  if (cpu === undefined && memory === undefined) return {}
  return {
    utilization: {
      ...(cpu !== undefined ? {cpuP95: Math.min(100, cpu)} : {}),
      ...(memory !== undefined ? {memoryP95: Math.min(100, memory)} : {}),
    },
  }
}

/** The parts of a disks cell: "sda:100;sdb:1.024" → [["sda", "100"], ["sdb", "1.024"]]; undefined for a bad part. */
export function diskParts(cell: string): ([string, string] | undefined)[] {
  return cell
    .split(/[;|]/)
    .filter((p) => p.trim() !== '')
    .map((p) => {
      const m = /^\s*([^:=]+?)\s*[:=]\s*(.+?)\s*$/.exec(p)
      return m ? [m[1], m[2]] : undefined
    })
}
