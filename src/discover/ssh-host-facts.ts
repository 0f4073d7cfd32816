// Parsers for what the SSH probe's commands say of the host itself (src/discover/ssh-parse.ts runs them): the output
// cut into its sections, CPUs, memory, OS release, disks (lsblk, df) and addresses. Pure functions, tested on outputs
// recorded on CentOS 7, Ubuntu, Debian and Alpine (test/fixtures/ssh/).
import type {Server} from '../schema/inventory.js'

/** The probe's output cut at its "@@name" lines: section name → its text. */
export function splitSections(stdout: string): Map<string, string> {
  const out = new Map<string, string>()
  let name: string | undefined
  let buf: string[] = []
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^@@([a-z-]+)$/.exec(line.trim())
    if (m) {
      if (name) out.set(name, buf.join('\n'))
      name = m[1]
      buf = []
    } else if (name) buf.push(line)
  }
  if (name && name !== 'end') out.set(name, buf.join('\n'))
  return out
}

export function parseNproc(text: string | undefined): number | undefined {
  const n = Number.parseInt((text ?? '').trim(), 10)
  return Number.isFinite(n) && n > 0 ? n : undefined
}

/** MemTotal in MiB. */
export function parseMeminfo(text: string | undefined): number | undefined {
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(text ?? '')
  return m ? Math.round(Number(m[1]) / 1024) : undefined
}

export function parseOsRelease(text: string | undefined): {
  id?: string
  name?: string
  version?: string
  pretty?: string
} {
  const kv: Record<string, string> = {}
  for (const line of (text ?? '').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim())
    if (m) kv[m[1]] = m[2].replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1')
  }
  return {id: kv.ID, name: kv.NAME, version: kv.VERSION_ID, pretty: kv.PRETTY_NAME}
}

export interface DfEntry {
  device: string
  sizeKiB: number
  usedKiB: number
  mount: string
}

const PSEUDO_FS = /^(tmpfs|devtmpfs|udev|none|overlay|shm|cgroup|proc|sysfs|rootfs|run|efivarfs|squashfs)$/

export function parseDf(text: string | undefined): DfEntry[] {
  const out: DfEntry[] = []
  for (const line of (text ?? '').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 6) continue
    const [device, size, used] = f
    const mount = f.slice(5).join(' ')
    if (PSEUDO_FS.test(device) || device.startsWith('/dev/loop') || !/^\d+$/.test(size)) continue
    if (!device.startsWith('/') && !device.includes(':')) continue
    out.push({device, sizeKiB: Number(size), usedKiB: Number(used), mount})
  }
  return out
}

export function parseLsblk(text: string | undefined): {name: string; bytes: number}[] {
  const out: {name: string; bytes: number}[] = []
  for (const line of (text ?? '').split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f.length < 3 || f[2] !== 'disk') continue
    const bytes = Number(f[1])
    if (!(bytes > 0) || /^(zram|ram|loop)/.test(f[0])) continue
    out.push({name: f[0], bytes})
  }
  return out
}

const GiB = 1024 ** 3
const round2 = (n: number) => Math.round(n * 100) / 100

/** Disks from lsblk, with the space df reports used on their partitions; from df alone when lsblk is missing. */
export function deriveDisks(lsblk: string | undefined, df: string | undefined): Server['disks'] {
  const fs = parseDf(df)
  const disks = parseLsblk(lsblk)
  if (disks.length === 0) {
    const seen = new Set<string>()
    return fs
      .filter((e) => e.device.startsWith('/dev/') && !seen.has(e.device) && seen.add(e.device))
      .map((e) => ({
        name: e.device.replace(/^\/dev\//, ''),
        sizeGiB: round2((e.sizeKiB * 1024) / GiB),
        usedGiB: round2((e.usedKiB * 1024) / GiB),
      }))
  }
  const counted = new Set<string>()
  const used = new Map<string, number>()
  for (const e of fs) {
    if (counted.has(e.device)) continue
    counted.add(e.device)
    const d = disks.find((x) => e.device === `/dev/${x.name}` || new RegExp(`^/dev/${x.name}p?\\d+$`).test(e.device))
    const key = d?.name ?? (disks.length === 1 ? disks[0].name : undefined)
    if (key) used.set(key, (used.get(key) ?? 0) + e.usedKiB * 1024)
  }
  return disks.map((d) => ({
    name: d.name,
    sizeGiB: round2(d.bytes / GiB),
    ...(used.has(d.name) ? {usedGiB: round2(used.get(d.name)! / GiB)} : {}),
  }))
}

/** IPv4/IPv6 addresses from `hostname -I` or `ip -o -4 addr show`; loopback and link-local dropped. */
export function parseIps(text: string | undefined): string[] {
  const t = text ?? ''
  const found = /\binet6?\s/.test(t)
    ? [...t.matchAll(/\binet6?\s+([0-9a-fA-F:.]+)\//g)].map((m) => m[1])
    : t.trim().split(/\s+/)
  return [
    ...new Set(
      found.filter(
        (ip) => ip && !/^127\./.test(ip) && ip !== '::1' && !/^fe80:/i.test(ip) && /^[0-9a-fA-F:.]+$/.test(ip),
      ),
    ),
  ]
}
