// `migrate statu`, `migrate execute 1`: an unknown command is a usage error (exit 64) with what was probably meant,
// in the --json envelope when --json is given, instead of oclif's bare "command statu not found" (exit 1).
import {Errors, type Hook} from '@oclif/core'
import {EXIT} from '../../errors.js'
import {closestNames} from '../../suggest.js'

const spaced = (id: string): string => id.replaceAll(':', ' ')

/** What the user probably meant: a command in the topic they named (with their arguments), or the nearest commands. */
export function suggestCommands(id: string, argv: string[], commandIds: string[], topics: string[]): string[] {
  const parts = id.split(':')
  // The longest prefix that is a topic: `execute:1` → topic `execute`, the rest `1` is an argument of one of its commands.
  for (let n = parts.length - 1; n >= 1; n--) {
    const topic = parts.slice(0, n).join(':')
    if (!topics.includes(topic)) continue
    const inTopic = commandIds.filter((c) => c.startsWith(`${topic}:`) && c.split(':').length === n + 1)
    const rest = parts.slice(n)
    const named = closestNames(
      rest[0],
      inTopic.map((c) => c.split(':')[n]),
    ).map((sub) => [`${topic}:${sub}`, ...rest.slice(1)])
    if (named.length > 0) return named.map(([c, ...r]) => [spaced(c), ...r, ...argv].join(' '))
    // A lone command in the topic: the rest were its arguments (`execute 1` → `execute wave 1`).
    if (inTopic.length === 1) return [[spaced(inTopic[0]), ...rest, ...argv].join(' ')]
    return inTopic.slice(0, 3).map((c) => spaced(c))
  }
  // A mistyped command or topic, followed by what may be subcommands and arguments: `rollbak wave 1`.
  const known = [...commandIds, ...topics]
  for (let n = parts.length; n >= 1; n--) {
    const typed = parts.slice(0, n).join(':')
    // Of names as near, one the user was typing out comes first: `statu` is `status` before `state`.
    const near = closestNames(
      typed,
      known.filter((c) => c.split(':').length === n),
    ).sort((a, b) => Number(b.startsWith(typed)) - Number(a.startsWith(typed)))
    if (near.length > 0) return near.map((c) => [spaced(c), ...parts.slice(n), ...argv].join(' '))
  }
  return []
}

const hook: Hook<'command_not_found'> = async (opts) => {
  const ids = opts.config.commandIDs
  const topics = opts.config.topics.map((t) => t.name)
  const args = opts.argv ?? []
  const shown = args.filter((a) => a !== '--json')
  const suggestions = suggestCommands(opts.id, shown, ids, topics)
  const message = `unknown command "${spaced(opts.id)}"${suggestions.length > 0 ? ` (did you mean \`migrate ${suggestions[0]}\`?)` : ''}`
  const hint =
    suggestions.length > 1
      ? `Did you mean one of: ${suggestions.map((s) => `\`migrate ${s}\``).join(', ')}? \`migrate --help\` lists every command`
      : '`migrate --help` lists every command'
  if (args.includes('--json')) {
    process.stdout.write(
      JSON.stringify(
        {
          status: EXIT.BAD_INPUT,
          error: {code: 'UNKNOWN_COMMAND', message, hint, data: {suggestions: suggestions.map((s) => `migrate ${s}`)}},
          warnings: [],
        },
        null,
        2,
      ) + '\n',
    )
  } else {
    process.stderr.write(`Error [UNKNOWN_COMMAND]: ${message}\n  ${hint}\n`)
  }
  throw new Errors.ExitError(EXIT.BAD_INPUT)
}

export default hook
