import {Flags} from '@oclif/core'
import {DiscoverCommand} from '../../src/cli/discover-command.js'
import {discoverFlags} from '../../src/discover/flags.js'
import type {DiscoverResult} from '../../src/discover/inventory.js'
import {parseTarget, readHostsFile, sshSource} from '../../src/providers/ssh.js'

export default class DiscoverSsh extends DiscoverCommand {
  static override summary =
    'Probe on-premises hosts over SSH (agentless): CPUs, memory, disks, OS, listening services, connections.'
  static override description =
    'Runs read-only commands (nproc, /proc/meminfo, df, lsblk, /etc/os-release, ss -tlnp, ss -tnp) with the system ssh client in BatchMode, host key checking on. Listening PostgreSQL/MySQL/MariaDB/Redis become databases; connections between probed hosts become observed dependencies. Hosts that cannot be reached are reported and the rest go on. Run as a user that may see process names (root or sudo-less ss shows fewer) for the best service detection.'
  static override examples = [
    '<%= config.bin %> discover ssh --host deploy@10.20.0.11 --host deploy@10.20.0.12 --identity ~/.ssh/migrate_ed25519',
    '<%= config.bin %> discover ssh --hosts dc1-hosts.txt --identity ~/.ssh/migrate_ed25519 --known-hosts dc1_known_hosts --out plans/dc1/inventory.yaml',
    '<%= config.bin %> discover ssh --host root@10.20.0.21 --db postgres://readonly@10.20.0.21:5432/postgres --json',
    '<%= config.bin %> discover ssh --hosts dc1-hosts.txt --identity ~/.ssh/migrate_ed25519 --exclude-port 22 --exclude-port 10050',
  ]
  static override flags = {
    host: Flags.string({
      char: 'H',
      description: 'host to probe as [user@]host[:port] (repeatable)',
      multiple: true,
      helpValue: 'USER@HOST:PORT',
    }),
    hosts: Flags.string({description: 'file with one [user@]host[:port] per line', helpValue: 'FILE'}),
    identity: Flags.string({char: 'i', description: 'private key for ssh -i', helpValue: 'KEY'}),
    'known-hosts': Flags.string({
      description: "known_hosts file to check host keys against (default: ssh's own)",
      helpValue: 'FILE',
    }),
    'accept-new-host-keys': Flags.boolean({
      description:
        'trust host keys seen for the first time (StrictHostKeyChecking=accept-new); changed keys still fail',
      default: false,
    }),
    concurrency: Flags.integer({description: 'hosts probed at once', default: 10, min: 1}),
    'connect-timeout': Flags.integer({description: 'seconds to wait for a connection', default: 10, min: 1}),
    'exclude-port': Flags.integer({
      description:
        "connections to this port are management, not dependencies (e.g. 22 for admin SSH sessions, 10050 for a monitoring agent); repeatable. The probe's own SSH sessions are always left out",
      multiple: true,
      min: 1,
      max: 65535,
      helpValue: 'PORT',
    }),
    ...discoverFlags(Flags),
  }

  async run(): Promise<DiscoverResult> {
    const {flags} = await this.parse(DiscoverSsh)
    const targets = [
      ...(flags.host ?? []).map((h) => parseTarget(h)),
      ...(flags.hosts ? readHostsFile(flags.hosts) : []),
    ]
    const options = {
      targets,
      identity: flags.identity,
      knownHosts: flags['known-hosts'],
      acceptNewHostKeys: flags['accept-new-host-keys'],
      concurrency: flags.concurrency,
      connectTimeoutS: flags['connect-timeout'],
      excludePorts: flags['exclude-port'],
    }
    return this.discover([{source: sshSource, options}], flags)
  }
}
