// MariaDB → ApsaraDB RDS through DTS end to end: `migrate` calls the DTS API (2020-01-01, ACS3-HMAC-SHA256 signed,
// through @alicloud/openapi-core) on a local endpoint that checks every signature and moves data for real between
// a MariaDB we own and an ApsaraDB stand-in (its master account has no SUPER), HAProxy in front, a writer throughout:
// 0. the service's errors (bad signature, unknown job or instance, wrong state, throttling) come back as clear
//    errors; pre-flight blocks without credentials (no call made) and on a source DTS cannot read;
// 1. a failing smoke test after cutover rolls back through DTS's reverse task: nothing acknowledged is lost;
// 2. a new job: cutover under load, zero lost writes; finalize stops the job and its reverse task.
import {describe, expect, test} from 'vitest'
import {startMariadbLoad} from '../../src/db/lab/load.js'
import {
  errorBlockerCodes as blockers,
  cutoverUnderLoad,
  expectEveryWriteOn,
  finalizeWave,
  labForFile,
  migrate,
  mysqlQuery as q,
  rollbackUnderLoad,
} from './helpers.js'
import {type DtsScenario, setupDtsMysql} from './managed-dts-helpers.js'

let s: DtsScenario
const lab = labForFile(
  {template: 'alicloud-dts-mysql', name: 'app', startLoad: startMariadbLoad},
  setupDtsMysql,
  (x) => (s = x),
)

const job = (id = 'job-1') => ['--dts-job-id', id, '--region', 'ap-southeast-5', '--endpoint', s.fixture.host]
const err = (out: string) => JSON.parse(out).error?.code
/** `migrate db <cmd>` for MariaDB on job-1, from the source to ApsaraDB (the plan's URLs). */
const dts = (cmd: string, extra: string[], env: Record<string, string> = {}) =>
  migrate({...s, env: {...s.env, ...env}}, [
    'db',
    cmd,
    '--json',
    '--engine',
    'mariadb',
    ...job(),
    '--source',
    s.params.source_url,
    '--target',
    s.params.target_url,
    ...extra,
  ])
const preflight = (env: Record<string, string> = {}) =>
  dts('dts-preflight', ['--target-password-env', 'MIGRATE_APSARA_PASSWORD'], env)

describe.sequential('mariadb → apsaradb rds through dts', () => {
  test('the service’s errors: bad signature, unknown job and instance, wrong state, throttling', {
    timeout: 60_000,
  }, async () => {
    const bad = await migrate({...s, env: {...s.env, ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'wrong'}}, [
      'db',
      'dts-check',
      '--json',
      ...job(),
    ])
    expect([bad.exitCode, err(bad.stdout)]).toEqual([64, 'ALICLOUD_BAD_CREDENTIALS'])
    expect(s.fixture.requests.at(-1)?.signed).toBe(false)
    expect(err((await migrate(s, ['db', 'dts-check', '--json', ...job('job-x')])).stdout)).toBe('DTS_NOT_FOUND')
    const start = (extra: string[]) =>
      migrate(s, [
        'db',
        'dts-start',
        '--json',
        '--engine',
        'mariadb',
        ...job(),
        '--source-addr',
        s.params.source_addr,
        '--dts-source-user',
        'root',
        '--dts-target-user',
        'admin',
        '--dts-target-password-env',
        'MIGRATE_APSARA_PASSWORD',
        '--databases',
        'app',
        ...extra,
      ])
    const noInstance = await start(['--target-instance-id', 'rm-nope'])
    expect([noInstance.exitCode, err(noInstance.stdout)]).toEqual([64, 'DTS_NOT_FOUND'])
    expect(s.fixture.jobs.get('job-1')?.status).toBe('NotConfigured')
    // The cutover refuses a job that does not run; the service refuses to stop a job never configured.
    const cut = await dts('dts-cutover', [
      '--haproxy-api',
      s.params.haproxy_api,
      '--haproxy-server',
      s.params.haproxy_server,
    ])
    expect(err(cut.stdout)).toBe('DTS_WRONG_STATE')
    const {dtsCall} = await import('../../src/db/managed/dts.js')
    Object.assign(process.env, {
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-dts-test',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'dts-secret',
    })
    await expect(
      dtsCall({region: 'ap-southeast-5', endpoint: s.fixture.host}, 'StopDtsJob', {DtsJobId: 'job-1'}),
    ).rejects.toMatchObject({code: 'DTS_WRONG_STATE'})
    // Throttling: retried by the SDK (2 answers Throttling.User, the 3rd passes); a storm outlasts the retries.
    s.fixture.faults.throttle = 2
    const before = s.fixture.requests.length
    expect(err((await migrate(s, ['db', 'dts-check', '--json', ...job()])).stdout)).toBe('DB_REPLICA_LAG')
    expect(s.fixture.requests.length - before).toBe(3)
    s.fixture.faults.throttle = 50
    expect(err((await migrate(s, ['db', 'dts-check', '--json', ...job()])).stdout)).toBe('DTS_THROTTLED')
    s.fixture.faults.throttle = 0
  })

  test('pre-flight blocks before any change: no credentials (no call made), a source DTS cannot read', {
    timeout: 60_000,
  }, async () => {
    const ok = await preflight()
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0)
    const before = s.fixture.requests.length
    const none = await preflight({ALIBABA_CLOUD_ACCESS_KEY_ID: ''})
    expect([none.exitCode, blockers(none.stdout)]).toEqual([1, ['ALICLOUD_NO_CREDENTIALS']])
    expect(s.fixture.requests.length).toBe(before)
    await q(s.sourceAdminUrl, 'SET GLOBAL binlog_format = STATEMENT')
    try {
      expect(blockers((await preflight()).stdout)).toEqual(['DTS_SOURCE_BINLOG_FORMAT'])
    } finally {
      await q(s.sourceAdminUrl, 'SET GLOBAL binlog_format = ROW')
    }
    expect(blockers((await preflight({MIGRATE_APSARA_PASSWORD: 'nope'})).stdout)).toEqual(['DTS_TARGET_UNREACHABLE'])
    expect(s.fixture.jobs.get('job-1')?.status).toBe('NotConfigured')
  })

  test('a failing smoke test after cutover rolls back through the reverse task: nothing lost', {
    timeout: 180_000,
  }, async () => {
    // The smoke test reads through a URL that bypasses HAProxy (the source), so it fails after a good cutover.
    const params = {...s.params, app_url: s.params.source_url}
    const {stats} = await rollbackUnderLoad(s, lab, params, {undone: ['cutover', 'replicate']})
    await expectEveryWriteOn('mariadb', s.sourceAdminUrl, stats)
    // Writes made on ApsaraDB after the cutover came back through the reverse task, and the source takes writes again.
    const onTarget = (await q(s.targetAdminUrl, 'SELECT COUNT(*) AS n FROM writes'))[0].n
    expect((await q(s.sourceAdminUrl, 'SELECT COUNT(*) AS n FROM writes'))[0].n).toBeGreaterThanOrEqual(onTarget)
    expect((await q(s.sourceAdminUrl, 'SELECT @@read_only AS r'))[0].r).toBe(0)
    const actions = s.fixture.requests.map((x) => x.action)
    for (const a of [
      'ConfigureDtsJob',
      'StartDtsJob',
      'SuspendDtsJob',
      'CreateReverseDtsJob',
      'StartReverseWriter',
      'StopDtsJob',
    ])
      expect(actions).toContain(a)
    expect(s.fixture.jobs.get('job-1')?.status).toBe('Finished')
    expect(
      JSON.stringify(s.fixture.requests.filter((x) => x.action === 'ConfigureDtsJob').map((x) => x.params.DbList)),
    ).toContain('app')
  })

  test('a new DTS job: cutover under load, zero lost; finalize stops the job and its reverse task', {
    timeout: 180_000,
  }, async () => {
    const params = {...s.params, dts_job_id: 'job-2'}
    const {stats} = await cutoverUnderLoad(s, lab, params, [
      'preflight',
      'replicate',
      'wait-caught-up',
      'approve-cutover',
      'cutover',
      'smoke-test',
    ])
    await expectEveryWriteOn('mariadb', s.targetAdminUrl, stats)
    expect((await q(s.sourceAdminUrl, 'SELECT @@read_only AS r'))[0].r).toBe(1)
    const j = s.fixture.jobs.get('job-2')
    expect([j?.status, s.fixture.jobs.get(j?.reverseJobId)?.status]).toEqual(['Suspending', 'Synchronizing'])
    await finalizeWave(s, lab)
    expect([j?.status, s.fixture.jobs.get(j?.reverseJobId)?.status]).toEqual(['Finished', 'Finished'])
    // Every request was signed with the access key, and no password or secret reached the plan's state.
    const {readFileSync} = await import('node:fs')
    const state = readFileSync(`${s.planDir}/state.journal`, 'utf8')
    for (const secret of ['apsara-pw', 'dts-secret']) expect(state).not.toContain(secret)
  })
})
