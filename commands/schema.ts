import {Args, Flags} from '@oclif/core'
import path from 'node:path'
import {BaseCommand} from '../src/cli/base-command.js'
import {writeFileAtomic} from '../src/io/atomic.js'
import {SCHEMAS_DIR} from '../src/paths.js'
import {KIND_NAMES, jsonSchemaOf} from '../src/schema/kinds.js'

export default class Schema extends BaseCommand {
  static override summary = 'Print the JSON Schema of a file kind (generated from the zod schema), for editors and CI.'
  static override args = {kind: Args.string({options: [...KIND_NAMES], description: 'file kind', required: false})}
  static override flags = {
    write: Flags.boolean({description: `write every kind's schema to plans/schemas/<kind>.schema.json`}),
  }
  static override examples = ['<%= config.bin %> schema plan > plan.schema.json', '<%= config.bin %> schema --write']

  async run(): Promise<{written?: string[]; schema?: Record<string, unknown>}> {
    const {args, flags} = await this.parse(Schema)
    if (flags.write) {
      const written = KIND_NAMES.map((k) => {
        const file = path.join(SCHEMAS_DIR, `${k}.schema.json`)
        writeFileAtomic(file, JSON.stringify(jsonSchemaOf(k), null, 2) + '\n')
        return file
      })
      if (!this.jsonEnabled()) for (const f of written) this.log(`wrote ${f}`)
      return {written}
    }
    const schema = jsonSchemaOf((args.kind ?? 'plan') as (typeof KIND_NAMES)[number])
    if (!this.jsonEnabled()) this.log(JSON.stringify(schema, null, 2))
    return {schema}
  }
}
