// A corpus of the edits people make by hand to plans/example/inventory.yaml (and a few other shapes of file), for
// the differential test of src/io/yaml-read.ts against the `yaml` library (test/foundation/yaml-read.test.ts).
// Each case is the example's opening (metadata, two applications, two servers, two databases, two dependencies) with
// one edit applied; a few are applied to the whole file.
import {readFileSync} from 'node:fs'
import path from 'node:path'

export const EXAMPLE = path.join(__dirname, '../../plans/example/inventory.yaml')

export interface CorpusCase {
  name: string
  text: string
}

/** The first `n` items of each top-level list of the example, as its lines stand. */
export function excerpt(full = readFileSync(EXAMPLE, 'utf8'), n = 2): string {
  const out: string[] = []
  let items = 0
  for (const line of full.split('\n')) {
    if (/^\S/.test(line)) items = 0
    else if (/^ {2}- /.test(line)) items++
    if (items <= n) out.push(line)
  }
  return out.join('\n')
}

type Edit = [name: string, edit: (text: string) => string]

/**
 * Replaces the first line matching `line` (after its indentation) with `replacement`, at the same indentation; a
 * function gets the indentation, for the lines it adds.
 */
const at =
  (line: RegExp, replacement: string | ((indent: string) => string)) =>
  (text: string): string => {
    const re = new RegExp(`^( *)${line.source}$`, 'm')
    if (!re.test(text)) throw new Error(`corpus: no line matches ${line}`)
    return text.replace(
      re,
      (_m, indent: string) => indent + (typeof replacement === 'string' ? replacement : replacement(indent)),
    )
  }
/** Moves the first line matching `line` by `by` columns (negative: to the left). */
const shift =
  (line: RegExp, by: number) =>
  (text: string): string =>
    text.replace(
      new RegExp(`^( *)(${line.source})$`, 'm'),
      (_m, indent: string, rest: string) => ' '.repeat(Math.max(0, indent.length + by)) + rest,
    )
const owner = (value: string) => at(/owner: platform/, `owner: ${value}`)
const vcpus = (value: string) => at(/vcpus: 4/, `vcpus: ${value}`)
const tag = (value: string) => at(/env: prod/, `env: ${value}`)
const description = (block: string) =>
  at(/description: ".*"/, (i) => `description: ${block.replaceAll('\n', `\n${i}`)}`)
const generatedAt = (value: string) => at(/generatedAt: .*/, `generatedAt: ${value}`)

const EDITS: Edit[] = [
  // Spacing around colons.
  ['two spaces after a colon', owner(' platform')],
  ['a tab after a colon', at(/owner: platform/, 'owner:\tplatform')],
  ['a space before a colon', at(/env: prod/, 'env : prod')],
  ['spaces before a colon', at(/owner: platform/, 'owner   : platform')],
  ['no space after a colon', at(/owner: platform/, 'owner:platform')],
  ['trailing spaces', owner('platform   ')],
  ['a trailing tab', owner('platform\t')],
  ['a colon inside a value', at(/hostname: .*/, 'hostname: db:5432')],
  ['a URL value', owner('http://x:80/p#frag')],
  ['a: foo:', owner('foo:')],
  ['a: b: c', owner('foo: bar')],
  ['a value starting with a colon', owner(':x')],
  ['a key holding spaces', at(/team: platform/, 'my team: platform')],
  ['a quoted key', at(/owner: platform/, '"owner": platform')],
  ['a single-quoted key', at(/owner: platform/, "'owner': platform")],
  ['an explicit ? key', at(/owner: platform/, (i) => `? owner\n${i}: platform`)],
  // Comments.
  ['a comment after a value', owner('platform # the platform team')],
  ['a # without a space before it', owner('platform#not-a-comment')],
  ['a comment after a key', at(/tags:/, 'tags: # labels')],
  ['a comment line between keys', at(/owner: platform/, (i) => `# who owns it\n${i}owner: platform`)],
  [
    'a comment line at column 1 inside a block',
    (t) => t.replace(/^( *)owner: platform$/m, '# who owns it\n$1owner: platform'),
  ],
  ['a comment line indented deeper', at(/owner: platform/, (i) => `    # deeper\n${i}owner: platform`)],
  ['a comment after a list item', at(/- 10\.20\.0\.13/, '- 10.20.0.13 # primary')],
  [
    'a comment as the first line of an item',
    at(/- name: user-auth/, (i) => `- # the login service\n${i}  name: user-auth`),
  ],
  ['a comment after a block scalar header', description('| # notes\n  text\n')],
  ['a comment after a quoted value', owner('"platform" # c')],
  ['a comment with no space after #', owner('platform #c')],
  // Quoted strings.
  ['a double-quoted value holding #', owner('"plat # form"')],
  ['a single-quoted value holding #', owner("'plat # form'")],
  ['a single-quoted value with a doubled quote', owner("'it''s'")],
  ['double-quoted escapes', owner('"esc \\" \\\\ \\t \\u00e9 \\x41 \\N \\_ \\/"')],
  ['an unknown escape', owner('"bad \\q"')],
  ['a double-quoted value over two lines', at(/owner: platform/, (i) => `owner: "plat\n${i}  form"`)],
  ['a single-quoted value over lines with an empty line', at(/owner: platform/, (i) => `owner: 'plat\n\n${i}  form'`)],
  ['an empty double-quoted value', owner('""')],
  ['an empty single-quoted value', owner("''")],
  ['text after a closing quote', owner('"plat" form')],
  ['an unclosed quote', owner('"platform')],
  ['a quoted number', vcpus('"4"')],
  // YAML 1.1 booleans are strings in 1.2.
  ...['yes', 'no', 'on', 'off', 'y', 'n', 'Y', 'Yes', 'NO', 'On', 'True', 'FALSE', 'tRUE', 'true', 'false'].map(
    (v): Edit => [`the tag value ${v}`, tag(v)],
  ),
  // Numbers.
  ...[
    '0x1F',
    '0X1F',
    '-0x1F',
    '0o17',
    '0O17',
    '017',
    '08',
    '0b11',
    '1e3',
    '1E3',
    '1.5e3',
    '1e+3',
    '1e-3',
    '+4',
    '-4',
    '-0',
    '0',
    '00',
    '.5',
    '4.',
    '4.0',
    '4.50',
    '1_000',
    '1,000',
    '.inf',
    '-.inf',
    '+.INF',
    '.Inf',
    '.NaN',
    '.nan',
    '.NAN',
    '.nAn',
    '1e400',
    '-1e400',
    '12345678901234567890',
    '9007199254740993',
    '0x',
    '1:30',
    '190:20:30',
    '4 # four',
    '4e',
    '0.1.2',
    '1e3.5',
    '+.5',
    '-.5e2',
    '0x1F # hex',
  ].map((v): Edit => [`vcpus: ${v}`, vcpus(v)]),
  ...['0x1F', '1e3', '.inf', '~', 'null', '1.0', '007'].map((v): Edit => [`a tag value ${v}`, tag(v)]),
  ...['1e3', '0x1F', '.inf', 'true', '1.50', '-0'].map(
    (v): Edit => [`a key ${v}`, at(/team: platform/, `${v}: platform`)],
  ),
  // Null.
  ...['~', 'null', 'Null', 'NULL', 'nULL', '', '# nothing', '~ # tilde'].map(
    (v): Edit => [`owner: ${v || '(empty)'}`, owner(v)],
  ),
  ['a null key', at(/team: platform/, '~: platform')],
  ['an empty key', at(/team: platform/, '"": platform')],
  // Dates and times stay strings in the core schema.
  ...[
    '2026-11-02',
    '2026-11-02 08:00:00',
    '2026-11-02T08:00:00.5+07:00',
    '2001-12-14t21:59:43.10-05:00',
    '"2026-11-02T08:00:00Z"',
    '2027-02-31',
    '12:30:00',
  ].map((v): Edit => [`generatedAt: ${v}`, generatedAt(v)]),
  // Block scalars, every chomping indicator, whitespace-only lines, trailing blank lines.
  ...['|', '|-', '|+', '>', '>-', '>+', '|2', '|-2', '>+1'].flatMap((h): Edit[] => [
    [`a block scalar ${h}`, description(`${h}\n  first line\n    more indented\n  last line\n`)],
    [
      `a block scalar ${h} with whitespace-only and trailing blank lines`,
      description(`${h}\n  first\n     \n  \n  second\n\n\n`),
    ],
    [`a block scalar ${h} with leading blank lines`, description(`${h}\n\n  \n  after blanks\n`)],
    [`a block scalar ${h} that is empty`, description(`${h}\n`)],
  ]),
  ['a block scalar with a tab in its text', description('|\n  a\tb\n  \tc\n')],
  ['a block scalar followed by a less indented comment', description('|-\n  text\n# a comment\n')],
  ['a block scalar with a wrong indentation indicator', description('|1\n  text\n')],
  ['a folded scalar with more-indented lines', description('>\n  para one\n  continues\n\n    code\n  para two\n')],
  [
    'a plain scalar over two lines',
    at(/description: ".*"/, (i) => `description: A marketplace\n${i}  estate in Jakarta`),
  ],
  [
    'a plain scalar over lines with an empty line',
    at(/description: ".*"/, (i) => `description: A marketplace\n\n${i}  estate`),
  ],
  // Flow collections.
  ['a flow mapping', at(/tags:/, 'tags: {team: platform, tier: gold}')],
  ['a flow mapping with a trailing comma', at(/tags:/, 'tags: {team: platform,}')],
  ['an empty flow mapping with spaces', at(/tags:/, 'tags: { }')],
  ['a flow sequence', at(/privateIps:/, 'privateIps: [10.20.0.13, 10.20.0.14]')],
  ['a flow sequence over lines', at(/privateIps:/, (i) => `privateIps: [\n${i}  10.20.0.13,\n${i}  10.20.0.14\n${i}]`)],
  ['a flow mapping with JSON keys', at(/tags:/, 'tags: {"team": "platform", "n": 1}')],
  ['a flow mapping holding a list', at(/tags:/, 'tags: {a: [1, 2], b: {c: d}}')],
  ['a flow mapping key without a value', at(/tags:/, 'tags: {team}')],
  ['a single pair in a flow sequence', at(/privateIps:/, 'privateIps: [a: 1]')],
  ['a # in a flow value', at(/tags:/, 'tags: {a: b#c, d: e}')],
  ['a comment inside a flow mapping', at(/tags:/, (i) => `tags: {a: b, # c\n${i}  d: e}`)],
  ['an unclosed flow sequence', at(/privateIps:/, 'privateIps: [10.20.0.13')],
  ['a flow mapping with a duplicate key', at(/tags:/, 'tags: {a: 1, a: 2}')],
  // Anchors and aliases.
  [
    'an anchored mapping and its alias',
    (t) => at(/team: identity/, (i) => `team: identity\n${i.slice(2)}labels: *t`)(at(/tags:/, 'tags: &t')(t)),
  ],
  ['an anchored scalar and its alias', (t) => at(/owner: identity/, 'owner: *o')(owner('&o platform')(t))],
  ['an alias as a key', (t) => at(/team: identity/, '*o : identity')(owner('&o platform')(t))],
  ['an alias to an unknown anchor', owner('*nowhere')],
  ['a merge key', (t) => at(/team: identity/, '<<: *t')(at(/tags:/, 'tags: &t')(t))],
  ['an anchor on an empty value', owner('&o')],
  ['an alias inside its own anchor', at(/tags:/, (i) => `tags: &loop\n${i}  self: *loop`)],
  [
    'an anchor redefined',
    (t) =>
      at(/owner: identity/, 'owner: *o')(at(/criticality: critical/, 'criticality: &o high')(owner('&o platform')(t))),
  ],
  // Tags.
  ['!!str on a number', vcpus('!!str 4')],
  ['! on a number', vcpus('! 4')],
  ['!!int on a string', vcpus('!!int "4"')],
  ['!!float', vcpus('!!float 4')],
  ['a custom tag', owner('!team platform')],
  ['!!binary', owner('!!binary aGk=')],
  ['!!timestamp', generatedAt('!!timestamp 2026-11-02')],
  ['!!map on a mapping', at(/tags:/, 'tags: !!map')],
  ['!!set', at(/tags:/, 'tags: !!set')],
  ['a verbatim tag', owner('!<tag:yaml.org,2002:str> platform')],
  // Tabs.
  ['a tab as indentation', at(/owner: platform/, '\towner: platform')],
  ['a tab inside a value', owner('plat\tform')],
  ['a tab before a comment', owner('platform\t# c')],
  ['a tab after a dash', at(/- 10\.20\.0\.13/, '-\t10.20.0.13')],
  ['a tab on an empty line', at(/owner: platform/, 'owner: platform\n\t')],
  // Duplicate keys.
  ['a duplicate key', at(/owner: platform/, (i) => `owner: platform\n${i}owner: other`)],
  ['a duplicate key, one quoted', at(/owner: platform/, (i) => `owner: platform\n${i}"owner": other`)],
  ['a duplicate key, 1 and "1"', at(/team: platform/, (i) => `1: a\n${i}"1": b`)],
  ['a duplicate key, 1 and 1.0', at(/team: platform/, (i) => `1: a\n${i}1.0: b`)],
  ['a duplicate top-level key', (t) => `${t}\nkind: Inventory\n`],
  // Non-ASCII.
  ['an accented value', owner('Zoë')],
  ['a Japanese key and value', at(/team: platform/, 'チーム: 基盤')],
  ['an emoji', owner('platform 🚀')],
  ['a no-break space inside a value', owner('plat\u00a0form')],
  ['a no-break space after a colon', at(/owner: platform/, 'owner:\u00a0platform')],
  ['a line separator inside a value', owner('plat\u2028form')],
  ['a NEL inside a value', owner('plat\u0085form')],
  ['a right-to-left value', owner('فريق')],
  // Sequences.
  ['- then - a', at(/- 10\.20\.0\.13/, (i) => `-\n${i}- 10.20.0.13`)],
  ['- with only a comment, then - a', at(/- 10\.20\.0\.13/, (i) => `- # none\n${i}- 10.20.0.13`)],
  ['- - a', at(/- 10\.20\.0\.13/, '- - 10.20.0.13')],
  ['a list not indented under its key', shift(/- 10\.20\.0\.13/, -2)],
  ['an empty list item at the end', at(/- 10\.20\.0\.13/, (i) => `- 10.20.0.13\n${i}-`)],
  ['a value starting with -', owner('-platform')],
  ['a value that is - alone', owner('-')],
  ['key: - a', owner('- a')],
  ['a list item over-indented', at(/- 10\.20\.0\.13/, (i) => `- 10.20.0.13\n${i}   - 10.20.0.14`)],
  // Indentation.
  ['a key one space too far left', shift(/criticality: critical/, -1)],
  ['a key one space too far right', at(/criticality: critical/, ' criticality: critical')],
  ['four-space indentation', (t) => t.replace(/^( +)/gm, (m) => m + m)],
  // Other characters that start a plain scalar.
  ...[
    '@team',
    '`team',
    '%team',
    '*',
    '&',
    '!',
    '|x',
    '>x',
    '?x',
    '? x',
    '[x',
    '{x',
    ']x',
    '}x',
    ',x',
    '#x',
    'a,b',
    'a]b',
    'a}b',
    'a[b',
    'a{b',
    '%',
  ].map((v): Edit => [`owner: ${v}`, owner(v)]),
  // Odd keys.
  ['a __proto__ key', at(/team: platform/, '__proto__: platform')],
  ['a __proto__ key holding a mapping', at(/team: platform/, '__proto__: {polluted: true}')],
  ['a toString key', at(/team: platform/, 'toString: platform')],
  ['a constructor key', at(/team: platform/, 'constructor: platform')],
  ['a list as a key', at(/team: platform/, '[a, b]: platform')],
  ['a mapping as a key', at(/team: platform/, '{a: b}: platform')],
  ['a very long key', at(/team: platform/, `${'k'.repeat(1100)}: platform`)],
  // Documents.
  ['--- at the start', (t) => `---\n${t}`],
  ['--- with a comment', (t) => `--- # inventory\n${t}`],
  ['... at the end', (t) => `${t}\n...\n`],
  ['two documents', (t) => `${t}\n---\nkind: Other\n`],
  ['%YAML 1.2', (t) => `%YAML 1.2\n---\n${t}`],
  ['%YAML 1.1', (t) => `%YAML 1.1\n---\n${t}`],
  ['%TAG', (t) => `%TAG !e! tag:example.com,2000:\n---\n${t}`],
  ['--- inside a block scalar', description('|\n  ---\n  text\n')],
  ['a line starting with --- inside a quoted value', at(/owner: platform/, 'owner: "a\n--- b"')],
  // Line ends and byte-order marks.
  ['CRLF line ends', (t) => t.replaceAll('\n', '\r\n')],
  ['CRLF with a block scalar', (t) => description('|+\n  a\n\n')(t).replaceAll('\n', '\r\n')],
  ['a lone CR', owner('plat\rform')],
  ['a byte-order mark', (t) => `\ufeff${t}`],
  ['a byte-order mark and CRLF', (t) => `\ufeff${t.replaceAll('\n', '\r\n')}`],
  ['no newline at the end', (t) => t.replace(/\n+$/, '')],
  ['many newlines at the end', (t) => `${t}\n\n\n\n`],
  ['a block scalar |+ at the end of the file', (t) => `${t.replace(/\n+$/, '')}\nnotes: |+\n  kept\n\n\n`],
  [
    'a block scalar | with trailing spaces at the end of the file',
    (t) => `${t.replace(/\n+$/, '')}\nnotes: |\n  kept\n   \n  `,
  ],
  ['a control character in a value', owner('plat\u0007form')],
  ['a DEL in a double-quoted value', owner('"plat\u007fform"')],
]

/** JSON forms of the excerpt (JSON is YAML 1.2). */
function jsonCases(data: unknown): CorpusCase[] {
  const pretty = JSON.stringify(data, null, 2)
  return [
    {name: 'JSON, pretty', text: pretty},
    {name: 'JSON, one line', text: JSON.stringify(data)},
    {
      name: 'JSON with a duplicate key',
      text: pretty.replace('"kind": "Inventory",', '"kind": "Inventory",\n  "kind": "Other",'),
    },
    {name: 'JSON with a trailing comma', text: pretty.replace(/\n}$/, ',\n}')},
    {
      name: 'JSON with a __proto__ key',
      text: pretty.replace('"kind": "Inventory",', '"kind": "Inventory",\n  "__proto__": {"x": 1},'),
    },
    {name: 'JSON with escapes', text: '{"a": "\\u00e9\\n\\t\\"\\/", "b": [1e400, -0, 0.1, 12345678901234567890]}'},
    {name: 'JSON with a tab after a colon', text: '{"a":\t1}'},
    {name: 'JSON with no space after colons', text: '{"a":1,"b":"x:y"}'},
  ]
}

/** Every case: one edit of the excerpt each, the JSON forms, and a few edits of the whole example. */
export function corpus(parse: (text: string) => unknown): CorpusCase[] {
  const full = readFileSync(EXAMPLE, 'utf8')
  const base = excerpt(full)
  const cases: CorpusCase[] = [{name: 'the excerpt as written', text: base}]
  for (const [name, edit] of EDITS) cases.push({name, text: edit(base)})
  cases.push(...jsonCases(parse(base)))
  cases.push(
    {name: 'the whole example', text: full},
    {name: 'the whole example: two spaces after every owner colon', text: full.replaceAll('owner: ', 'owner:  ')},
    {name: 'the whole example: a space before every env colon', text: full.replaceAll(' env: ', ' env : ')},
    {name: 'the whole example with CRLF and a byte-order mark', text: `\ufeff${full.replaceAll('\n', '\r\n')}`},
    {name: 'the whole example: comments after every vcpus', text: full.replace(/vcpus: (\d+)$/gm, 'vcpus: $1 # cores')},
  )
  return cases
}
