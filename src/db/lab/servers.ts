// A local lab of throwaway database servers for tests, the cutover benchmark and trying a migration locally: real
// PostgreSQL, MariaDB, Redis, PgBouncer and HAProxy processes from Debian's binaries, one file per kind, each in its
// own temp dir on a port the caller picks: `migrate db lab up` from its ranges (PostgreSQL 24300-24399, MariaDB
// 23300-23399, Redis 63300-63399, PgBouncer 64300-64399, HAProxy 65300-65399), the tests and the benchmark reserved
// at run time (ports.ts). Every start checks its port free first and that the server answering there is its own.
// Every start returns a handle whose stop() kills the process and removes the dir; stopAll() stops whatever is left.
export {startHaproxy, type HaproxyHandle, type HaproxyOptions} from './haproxy-server.js'
export {mariadb, startMariadb, type MariaOptions} from './mariadb-server.js'
export {
  PGBOUNCER_IGNORED_STARTUP_PARAMETERS,
  startPgBouncer,
  type PgBouncerHandle,
  type PgBouncerOptions,
} from './pgbouncer-server.js'
export {assertPortFree, freePorts, portFree, waitPort} from './ports.js'
export {
  asPostgres,
  LAB_PG_SETTINGS,
  PG_BIN,
  type PgOptions,
  postgresUid,
  psql,
  startPostgres,
} from './postgres-server.js'
export {startRedis} from './redis-server.js'
export {type ServerHandle, stopAll} from './server-handle.js'
