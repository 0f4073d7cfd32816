// The shipped CI examples that fan a wave out (templates/ci/*-wave.yml): valid YAML, and every `migrate …` command in
// them is a command of this CLI with flags it has (read from the built oclif manifest), so they do not rot.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'

const ROOT = path.resolve(import.meta.dirname, '../..')
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, {flags: Record<string, unknown>}>
}

/** Every `migrate SUB [SUB] --flag …` in the text, as [command id, flags]. */
function commands(text: string): [string, string[]][] {
  const out: [string, string[]][] = []
  for (const m of text.matchAll(/\bmigrate ((?:[a-z]+ )*[a-z]+)((?: [^\n;|)]*)?)/g)) {
    const words = m[1].split(' ')
    let id = ''
    for (let n = words.length; n > 0; n--) {
      const c = words.slice(0, n).join(':')
      if (manifest.commands[c]) {
        id = c
        break
      }
    }
    if (!id) continue
    out.push([id, [...(m[0].matchAll(/ --([a-z-]+)/g) ?? [])].map((f) => f[1])])
  }
  return out
}

describe('CI examples that run a wave as parallel jobs', () => {
  for (const file of ['github-actions-wave.yml', 'gitlab-ci-wave.yml']) {
    it(`${file}: YAML, and only real commands and flags`, () => {
      const text = readFileSync(path.join(ROOT, 'templates/ci', file), 'utf8')
      expect(() => parse(text)).not.toThrow()
      const cmds = commands(text)
      const ids = cmds.map(([id]) => id)
      expect(ids).toEqual(expect.arrayContaining(['ci:matrix', 'execute:wave', 'status']))
      for (const [id, flags] of cmds)
        for (const f of flags) expect(Object.keys(manifest.commands[id].flags), `${id} --${f}`).toContain(f)
      // Each job runs one unit.
      expect(text).toMatch(/migrate execute wave "\\?\$\w+" --plan "\\?\$\w+" --app "\\?\$UNIT"/)
      // No password in the examples: it comes from a secret (PGPASSWORD) or a service file.
      expect(text).not.toMatch(/postgres:\/\/[^@\s]*:[^@\s]*@/)
    })
  }
})
