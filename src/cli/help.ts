// Root help with the whole flow as examples: a new user sees what to type first.
import {Help, type Command, type Interfaces} from '@oclif/core'

const EXAMPLES = `EXAMPLES
  The whole flow on the built-in example estate (no cloud account needed):

    $ migrate validate plans/example/inventory.yaml
    $ migrate plan --plan plans/example --format table
    $ migrate execute wave 1 --plan plans/example --dry-run
    $ migrate status --plan plans/example

  Discover a real estate, then plan it:

    $ migrate discover aws --region ap-southeast-1 --region ap-southeast-3 --out plans/prod/inventory.yaml
    $ migrate discover ssh --hosts hosts.txt --identity ~/.ssh/id_ed25519 --out plans/prod/inventory.yaml
    $ migrate plan --plan plans/prod --settings plans/prod/settings.yaml --format mermaid

  Run a wave, and undo it:

    $ migrate execute wave 2 --plan plans/prod --concurrency 4
    $ migrate rollback wave 2 --plan plans/prod

EXIT CODES
  0 ok · 1 failed · 2 work pending (--detailed-exitcode) · 3 rolled back · 4 locked · 5 stale plan
  6 operator decision needed · 7 partly done (discover: some targets unreadable) · 64 bad input or usage
  130 interrupted
`

/** The database runbooks' own steps, by what they drive: what `migrate db --help` groups under "steps the templates call". */
const DB_STEP_GROUPS: [string, RegExp][] = [
  ['PostgreSQL', /^(pg-|wait-lsn$)/],
  ['MariaDB', /^mariadb-/],
  ['Redis', /^redis-/],
  ['PgBouncer', /^pgbouncer-/],
  ['HAProxy', /^haproxy-/],
  ['Amazon RDS', /^rds-/],
]

/** `  Engine      a, b, c,` wrapped under itself at 80 columns. */
function wrapList(label: string, names: string[]): string {
  const indent = ' '.repeat(14)
  const lines: string[] = []
  let line = `  ${label.padEnd(11)} `
  for (const [i, n] of names.entries()) {
    const word = n + (i < names.length - 1 ? ',' : '')
    if (line.trim().length > label.length && line.length + word.length + 1 > 80) {
      lines.push(line.trimEnd())
      line = indent
    }
    line += (line.endsWith(' ') ? '' : ' ') + word
  }
  lines.push(line)
  return lines.join('\n')
}

export default class MigrateHelp extends Help {
  protected override async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    this.log('')
    this.log(EXAMPLES)
  }

  /**
   * `migrate db` holds three kinds of command: the lab a person starts, the checks a person runs, and 26 steps the
   * database templates call. A flat list of 29 buries the first two; this shows them first and the steps by engine.
   */
  protected override async showTopicHelp(topic: Interfaces.Topic): Promise<void> {
    if (topic.name !== 'db') return super.showTopicHelp(topic)
    const db = this.config.commands.filter((c) => c.id.startsWith('db:') && !c.hidden)
    const sub = (c: Command.Loadable): string => c.id.slice('db:'.length).replaceAll(':', ' ')
    const lab = db.filter((c) => c.id.startsWith('db:lab:'))
    const checks = db.filter((c) => c.id === 'db:preflight' || c.id === 'db:verify')
    const steps = db.filter((c) => !lab.includes(c) && !checks.includes(c))
    // formatCommands titles its table COMMANDS; here each table has its own title.
    const list = (cs: Command.Loadable[]): string => this.formatCommands(cs).replace(/^.*COMMANDS.*\n/, '')
    const out: string[] = [topic.description ?? '', '', 'USAGE', `  $ ${this.config.bin} db COMMAND`, '']
    out.push('TRY A REAL DATABASE MIGRATION ON THIS MACHINE (see docs/local-migration.md)', list(lab), '')
    out.push('CHECKS TO RUN BEFORE AND AFTER A CUTOVER', list(checks), '')
    out.push('STEPS THE DATABASE TEMPLATES CALL (rarely typed by hand; `migrate db COMMAND --help` explains one)')
    const taken = new Set<string>()
    for (const [engine, re] of DB_STEP_GROUPS) {
      const names = steps.filter((c) => re.test(sub(c))).map(sub)
      names.forEach((n) => {
        taken.add(n)
      })
      if (names.length > 0) out.push(wrapList(engine, names))
    }
    const rest = steps.map(sub).filter((n) => !taken.has(n))
    if (rest.length > 0) out.push(wrapList('Other', rest))
    this.log(out.join('\n') + '\n')
  }
}
