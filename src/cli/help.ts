// Root help with the whole flow as examples: a new user sees what to type first.
import {Help} from '@oclif/core'

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

export default class MigrateHelp extends Help {
  protected override async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    this.log('')
    this.log(EXAMPLES)
  }
}
