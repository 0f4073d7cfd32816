// Flags that several `migrate db …` commands declare alike. Each is spread into a command's flags where it stood,
// so flag names, order and help text are those of the command.
import {Flags} from '@oclif/core'

/** --source and --target as plain URLs. */
export const sourceTargetFlags = {
  source: Flags.string({required: true, description: 'source URL'}),
  target: Flags.string({required: true, description: 'target URL'}),
}

/** --url of a one-server command that needs an administrator. */
export const adminUrlFlag = {url: Flags.string({required: true, description: 'server URL (an administrator)'})}

/** --url of a one-server command. */
export const urlFlag = {url: Flags.string({required: true, description: 'server URL'})}

/** --password-env of a one-server command. */
export const passwordEnvFlag = {
  'password-env': Flags.string({description: 'environment variable holding the password'}),
}

/** --password-env of a PgBouncer admin console command. */
export const adminPasswordEnvFlag = {
  'password-env': Flags.string({description: 'environment variable holding the admin password'}),
}

/** --source-password-env and --target-password-env. */
export const passwordEnvFlags = {
  'source-password-env': Flags.string({description: 'environment variable holding the source password'}),
  'target-password-env': Flags.string({description: 'environment variable holding the target password'}),
}

/** How a cutover repoints clients through HAProxy: --haproxy-api, --haproxy-server, --haproxy-source, --haproxy-target. */
export const haproxyFlags = {
  'haproxy-api': Flags.string({required: true, description: 'HAProxy runtime API: host:port or socket path'}),
  'haproxy-server': Flags.string({required: true, description: 'backend/server the clients go through'}),
  'haproxy-source': Flags.string({
    description: 'host:port of the source as HAProxy reaches it (default: from --source)',
  }),
  'haproxy-target': Flags.string({
    description: 'host:port of the target as HAProxy reaches it (default: from --target)',
  }),
}

/** The cutover window's budget (see src/db/window.ts). */
export const windowBudgetFlags = {
  'max-window': Flags.string({
    default: '5s',
    description:
      'longest write-unavailability window: waits inside it are bounded by it (a Redis CLIENT PAUSE lasts exactly this long), the write block is checked before promoting, and a cutover expected to take longer is refused before pausing',
  }),
  'pause-wait': Flags.string({
    default: '2s',
    description:
      'longest wait for the pause or block itself (open transactions, locks, a busy script); then it is undone and the blockers are named',
  }),
  margin: Flags.string({
    default: '1s',
    description: 'time kept before the window ends for the sub-steps after the commit point',
  }),
}

/** The window's budget, and --check to run only the pre-checks. */
export const windowFlags = {
  ...windowBudgetFlags,
  check: Flags.boolean({
    default: false,
    description: 'only the pre-checks (nothing changes); prints the window estimate',
  }),
}
