// The mistakes a newcomer makes, as they type them (node bin/run.js, built dist/): each one is a usage or input error
// with its own exit code, one line that says what was wrong (and what was probably meant), and never a stack trace
// or "this is a bug".
import {execa} from 'execa'
import {cpSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {scratchDir} from '../helpers/scratch.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BIN = path.join(ROOT, 'bin/run.js')
let dir: string
let plan: string
let cleanup: () => void

beforeAll(() => {
  ;({dir, cleanup} = scratchDir('bad-invocations'))
  plan = path.join(dir, 'demo')
  cpSync(path.join(ROOT, 'plans/demo'), plan, {
    recursive: true,
    filter: (f) => !/demo-work|state\.(journal|lock)/.test(f),
  })
  const inv = readFileSync(path.join(plan, 'inventory.yaml'), 'utf8')
  writeFileSync(path.join(dir, 'tab.yaml'), inv.replace('\n    owner: storefront', '\n\towner: storefront'))
  writeFileSync(path.join(dir, 'unknown-field.yaml'), inv.replace('    owner: storefront', '    ownr: storefront'))
  writeFileSync(
    path.join(dir, 'unknown-server-field.yaml'),
    inv.replace('    memoryMiB: 8192\n    os:', '    memoryMib: 8192\n    memoryMiB: 8192\n    os:'),
  )
  writeFileSync(
    path.join(dir, 'os-string.yaml'),
    inv.replace(
      /    os:\n      family: linux\n      name: ubuntu\n      version: "22.04"\n    application: shop-web/,
      '    os: ubuntu\n    application: shop-web',
    ),
  )
  writeFileSync(
    path.join(dir, 'settings.yaml'),
    'apiVersion: migrate/v1\nkind: PlanSettings\nsettings:\n  startDate: 2027-02-30\n',
  )
})
afterAll(() => cleanup())

interface Case {
  /** argv after `migrate`; PLAN and DIR are replaced by the demo plan copy and the scratch directory. */
  args: string
  exit: number
  code: string
  /** The one-line message after `Error [CODE]: `. */
  message: RegExp
  /** Diagnostics printed before the error line, when the message alone does not carry the reason. */
  stderr?: RegExp
  /** How many `file:line:col: error` lines, when there are diagnostics. */
  diagnostics?: number
}

const CASES: Case[] = [
  // Arguments that are no wave number.
  {
    args: 'execute wave 0 --plan PLAN',
    exit: 64,
    code: 'USAGE',
    message: /^wave number "0": expected an integer greater than or equal to 1$/,
  },
  {
    args: 'execute wave -1 --plan PLAN',
    exit: 64,
    code: 'USAGE',
    message: /^wave number "-1": expected an integer greater than or equal to 1$/,
  },
  {args: 'execute wave abc --plan PLAN', exit: 64, code: 'USAGE', message: /^wave number "abc": expected an integer$/},
  {args: 'execute wave 1.5 --plan PLAN', exit: 64, code: 'USAGE', message: /^wave number "1.5": expected an integer$/},
  {args: 'execute wave --plan PLAN', exit: 64, code: 'USAGE', message: /^missing wave number$/},
  {
    args: 'rollback wave 0 --plan PLAN',
    exit: 64,
    code: 'USAGE',
    message: /^wave number "0": expected an integer greater than or equal to 1$/,
  },
  {args: 'rollback wave abc --plan PLAN', exit: 64, code: 'USAGE', message: /^wave number "abc": expected an integer$/},
  {
    args: 'rollback wav 1 --plan PLAN',
    exit: 64,
    code: 'USAGE',
    message: /^"wav" is not one of wave \(did you mean "wave"\?\)$/,
  },
  {args: 'rollback --plan PLAN', exit: 64, code: 'USAGE', message: /^say what to roll back: `wave N` or --app NAME$/},
  {
    args: 'execute wave 99 --plan PLAN --dry-run',
    exit: 64,
    code: 'UNKNOWN_WAVE',
    message: /^wave 99 is not in the plan$/,
  },
  // Flag values.
  {
    args: 'execute wave 1 --plan PLAN --concurrency -2',
    exit: 64,
    code: 'USAGE',
    message: /^--concurrency "-2": expected an integer greater than or equal to 1$/,
  },
  {
    args: 'execute wave 1 --plan PLAN --concurrency 0',
    exit: 64,
    code: 'USAGE',
    message: /^--concurrency "0": expected an integer greater than or equal to 1$/,
  },
  {
    args: 'execute wave 1 --plan PLAN --concurrency abc',
    exit: 64,
    code: 'USAGE',
    message: /^--concurrency "abc": expected an integer$/,
  },
  {
    args: 'rollback wave 1 --plan PLAN --concurrency 0',
    exit: 64,
    code: 'USAGE',
    message: /^--concurrency "0": expected an integer greater than or equal to 1$/,
  },
  {
    args: 'status --plan PLAN --wave 0',
    exit: 64,
    code: 'USAGE',
    message: /^--wave "0": expected an integer greater than or equal to 1$/,
  },
  {args: 'status --plan PLAN --wave abc', exit: 64, code: 'USAGE', message: /^--wave "abc": expected an integer$/},
  {args: 'status --plan PLAN --wave 99', exit: 64, code: 'UNKNOWN_WAVE', message: /^wave 99 is not in the plan$/},
  {
    args: 'plan --plan PLAN --cadence 0 --diff',
    exit: 64,
    code: 'USAGE',
    message: /^--cadence "0": expected an integer greater than or equal to 1$/,
  },
  {
    args: 'plan --plan PLAN --format tabel',
    exit: 64,
    code: 'USAGE',
    message: /^--format "tabel" is not one of table, markdown, mermaid, json \(did you mean "table"\?\)$/,
  },
  {args: 'execute wave 1 --plan PLAN --junit', exit: 64, code: 'USAGE', message: /^Flag --junit expects a value$/},
  // Dates that do not exist.
  {
    args: 'plan --plan PLAN --start 2027-13-01 --diff',
    exit: 64,
    code: 'USAGE',
    message: /^--start "2027-13-01": expected a real date as YYYY-MM-DD \(there is no month 13\)$/,
  },
  {
    args: 'plan --plan PLAN --start 2027-02-30 --diff',
    exit: 64,
    code: 'USAGE',
    message: /^--start "2027-02-30": expected a real date as YYYY-MM-DD \(2027-02 has 28 days\)$/,
  },
  {
    args: 'plan --plan PLAN --deadline 2027-04-31 --diff',
    exit: 64,
    code: 'USAGE',
    message: /^--deadline "2027-04-31": expected a real date as YYYY-MM-DD \(2027-04 has 30 days\)$/,
  },
  {
    args: 'plan --plan PLAN --start 27-1-1 --diff',
    exit: 64,
    code: 'USAGE',
    message: /^--start "27-1-1": expected a date as YYYY-MM-DD$/,
  },
  {
    args: 'validate DIR/settings.yaml',
    exit: 64,
    code: 'VALIDATION_FAILED',
    message: /^1 error\(s\) in 1 of 1 file\(s\)$/,
    stderr: /settings\.yaml:4:\d+: error \w+: not a real date: 2027-02 has 28 days/,
    diagnostics: 1,
  },
  // Unknown commands.
  {
    args: 'statu',
    exit: 64,
    code: 'UNKNOWN_COMMAND',
    message: /^unknown command "statu" \(did you mean `migrate status`\?\)$/,
  },
  {
    args: 'execute 1',
    exit: 64,
    code: 'UNKNOWN_COMMAND',
    message: /^unknown command "execute 1" \(did you mean `migrate execute wave 1`\?\)$/,
  },
  {
    args: 'execute wav 1 --plan PLAN',
    exit: 64,
    code: 'UNKNOWN_COMMAND',
    message: /^unknown command "execute wav 1" \(did you mean `migrate execute wave 1 --plan .*demo`\?\)$/,
  },
  {
    args: 'rollbak wave 1',
    exit: 64,
    code: 'UNKNOWN_COMMAND',
    message: /^unknown command "rollbak wave 1" \(did you mean `migrate rollback wave 1`\?\)$/,
  },
  {
    args: 'discover aws2',
    exit: 64,
    code: 'UNKNOWN_COMMAND',
    message: /^unknown command "discover aws2" \(did you mean `migrate discover aws`\?\)$/,
  },
  {
    args: 'db lab upp',
    exit: 64,
    code: 'UNKNOWN_COMMAND',
    message: /^unknown command "db lab upp" \(did you mean `migrate db lab up`\?\)$/,
  },
  {args: 'frobnicate', exit: 64, code: 'UNKNOWN_COMMAND', message: /^unknown command "frobnicate"$/},
  // Misspelled flags and names.
  {
    args: 'execute wave 1 --plan PLAN --dryrun',
    exit: 64,
    code: 'USAGE',
    message: /^unknown flag --dryrun \(did you mean --dry-run\?\)$/,
  },
  {
    args: 'execute wave 1 --plan PLAN --aprove finalize',
    exit: 64,
    code: 'USAGE',
    message: /^unknown flag --aprove \(did you mean --approve\?\)$/,
  },
  {
    args: 'status --plan PLAN --verfy',
    exit: 64,
    code: 'USAGE',
    message: /^unknown flag --verfy \(did you mean --verify\?\)$/,
  },
  {args: 'plan --plna PLAN', exit: 64, code: 'USAGE', message: /^unknown flag --plna \(did you mean --plan\?\)$/},
  {
    args: 'schema invntory',
    exit: 64,
    code: 'USAGE',
    message: /^"invntory" is not one of inventory, plan, settings, template, state \(did you mean "inventory"\?\)$/,
  },
  {
    args: 'execute wave 1 --plan PLAN --dry-run --approve finalise',
    exit: 64,
    code: 'PREFLIGHT_BLOCKED',
    message: /^pre-flight found 1 blocker/,
    stderr: /"finalise" names no step of the applications in wave 1 \(did you mean "finalize"\?\)/,
  },
  {
    args: 'execute wave 1 --plan PLAN --dry-run --skip-step shop-web/prepar',
    exit: 64,
    code: 'PREFLIGHT_BLOCKED',
    message: /^pre-flight found 1 blocker/,
    stderr: /\(did you mean "shop-web\/prepare"\?\)/,
  },
  {
    args: 'rollback --app shop-wbe --plan PLAN',
    exit: 64,
    code: 'UNKNOWN_APP',
    message: /^not in any wave of the plan: shop-wbe \(did you mean "shop-web"\?\)$/,
  },
  // Files.
  {
    args: 'status --plan DIR/nowhere/plan.yaml',
    exit: 64,
    code: 'PLAN_NOT_FOUND',
    message: /nowhere has neither a plan\.yaml nor a state journal$/,
  },
  {args: 'validate DIR/missing.yaml', exit: 64, code: 'FILE_NOT_FOUND', message: /missing\.yaml: no such file$/},
  {
    args: 'validate DIR/tab.yaml',
    exit: 64,
    code: 'VALIDATION_FAILED',
    message: /^1 error\(s\) in 1 of 1 file\(s\)$/,
    stderr: /tab\.yaml:9:1: error YAML_SYNTAX: Tabs are not allowed as indentation/,
    diagnostics: 1,
  },
  {
    args: 'validate DIR/os-string.yaml',
    exit: 64,
    code: 'VALIDATION_FAILED',
    message: /^1 error\(s\) in 1 of 1 file\(s\)$/,
    stderr: /error SCHEMA_INVALID_TYPE: .*Write an object here/,
    diagnostics: 1,
  },
  {
    args: 'validate DIR/unknown-field.yaml',
    exit: 64,
    code: 'VALIDATION_FAILED',
    message: /^1 error\(s\) in 1 of 1 file\(s\)$/,
    stderr: /unknown field "ownr" \(did you mean "owner"\?\)/,
    diagnostics: 1,
  },
  {
    args: 'validate DIR/unknown-server-field.yaml',
    exit: 64,
    code: 'VALIDATION_FAILED',
    message: /^1 error\(s\) in 1 of 1 file\(s\)$/,
    stderr: /unknown field "memoryMib" \(did you mean "memoryMiB"\?\)/,
    diagnostics: 1,
  },
  {
    args: 'plan --plan PLAN --inventory DIR/unknown-field.yaml --diff',
    exit: 64,
    code: 'INVALID_FILE',
    message: /unknown-field\.yaml/,
    stderr: /unknown field "ownr" \(did you mean "owner"\?\)/,
  },
]

const run = (args: string) =>
  execa('node', [BIN, ...args.split(' ').map((a) => a.replaceAll('PLAN', plan).replaceAll('DIR', dir))], {
    reject: false,
    env: {NO_COLOR: '1'},
    cwd: dir,
  })

describe('bad invocations: exit code, one line that says why, no stack trace', () => {
  it(`has at least 40 cases (${CASES.length})`, () => expect(CASES.length).toBeGreaterThanOrEqual(40))

  it.concurrent.each(CASES)('migrate $args', async (c) => {
    const r = await run(c.args)
    expect(r.stderr).not.toMatch(/^\s+at .+[:(]\d+/m)
    expect(r.stderr).not.toMatch(/INTERNAL|This is a bug|›\s+Error/)
    const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('Error ['))
    expect(errorLines, r.stderr).toHaveLength(1)
    const m = /^Error \[([A-Z_]+)\]: (.*)$/.exec(errorLines[0])!
    expect(m[1]).toBe(c.code)
    expect(m[2]).toMatch(c.message)
    if (c.stderr) expect(r.stderr).toMatch(c.stderr)
    if (c.diagnostics !== undefined)
      expect(r.stderr.split('\n').filter((l) => /:\d+:\d+: error /.test(l))).toHaveLength(c.diagnostics)
    expect(r.exitCode, r.stderr).toBe(c.exit)
  })

  it.concurrent.each(
    CASES.filter((c) =>
      /^(statu|execute 1|execute wave 0|status --plan PLAN --wave 99|execute wave 1 --plan PLAN --dryrun)/.test(c.args),
    ),
  )('--json: migrate $args', async (c) => {
    const r = await run(`${c.args} --json`)
    expect(r.exitCode).toBe(c.exit)
    const env = JSON.parse(r.stdout)
    expect(env.status).toBe(c.exit)
    expect(env.error.code).toBe(c.code)
    expect(env.error.message).toMatch(c.message)
    expect(r.stderr).not.toMatch(/^\s+at /m)
  })
})

describe('what a newcomer types that should simply work', () => {
  it('--plan names the plan file: its directory is the plan', async () => {
    const st = await run('status --plan PLAN/plan.yaml')
    expect(st.exitCode, st.stderr).toBe(0)
    expect(st.stdout).toContain(`Plan ${plan}:`)
    const dry = await run('execute wave 1 --plan PLAN/inventory.yaml --dry-run')
    expect(dry.exitCode, dry.stderr).toBe(0)
  })

  it('status inside a plan directory looks in .', async () => {
    const r = await execa('node', [BIN, 'status'], {reject: false, cwd: plan})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toContain(`Plan ${plan}:`)
  })

  it('the --json warnings list carries the pre-flight warnings', async () => {
    // A template step that calls a program this machine does not have: a warning in a dry-run.
    const warned = path.join(dir, 'warned')
    cpSync(plan, warned, {recursive: true})
    const t = readFileSync(path.join(ROOT, 'templates/local-demo.yaml'), 'utf8').replace(
      'run: [touch, "{{ plan.dir }}/{{ params.workDir }}/{{ app.name }}/test-instance"]',
      'run: [no-such-program-i14, "{{ app.name }}"]',
    )
    cpSync(path.join(ROOT, 'templates/local-demo.yaml'), path.join(warned, 'templates/local-demo.yaml'))
    writeFileSync(path.join(warned, 'templates/local-demo.yaml'), t)
    const r = await run(`execute wave 1 --plan ${warned} --dry-run --json`)
    const env = JSON.parse(r.stdout)
    const warnings = env.result.preflight.filter((f: {severity: string}) => f.severity === 'warning')
    expect(warnings.length).toBeGreaterThan(0)
    expect(env.warnings).toHaveLength(warnings.length)
    for (const w of warnings)
      expect(env.warnings.some((s: string) => s.includes(w.code) && s.includes(w.message))).toBe(true)
  })
})
