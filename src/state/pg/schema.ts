// The tables of the PostgreSQL state backend, created and migrated by migrate itself: schema migrate_state, its
// version in migrate_state.schema_version, each migration applied once, in order, under a transaction-level advisory
// lock (so runners that start together do not race to create the tables).
import type pg from 'pg'
import {EXIT, MigrateError} from '../../errors.js'

export const SCHEMA = 'migrate_state'

/** Lock key of schema migrations (any constant shared by every migrate: "migrate-state" as 8 bytes). */
const MIGRATION_LOCK = '7309486145245045861'

const MIGRATIONS: string[] = [
  // 1: plans (one chain each, its head), events, unit-lock holders, per-runner durability marks, barriers.
  `
  CREATE TABLE ${SCHEMA}.plans (
    plan_id text PRIMARY KEY,
    head_seq bigint NOT NULL DEFAULT -1,
    head_hash text NOT NULL DEFAULT repeat('0', 64),
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE ${SCHEMA}.events (
    plan_id text NOT NULL REFERENCES ${SCHEMA}.plans ON DELETE CASCADE,
    seq bigint NOT NULL,
    line text NOT NULL,
    hash text NOT NULL,
    written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (plan_id, seq)
  );
  CREATE TABLE ${SCHEMA}.unit_locks (
    plan_id text NOT NULL,
    unit text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    os_user text NOT NULL,
    operation text NOT NULL,
    ci_job text,
    since timestamptz NOT NULL DEFAULT now(),
    backend_pid integer NOT NULL,
    PRIMARY KEY (plan_id, unit)
  );
  CREATE TABLE ${SCHEMA}.runners (
    plan_id text NOT NULL,
    backend_pid integer NOT NULL,
    acked_seq bigint NOT NULL DEFAULT -1,
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, backend_pid)
  );
  CREATE TABLE ${SCHEMA}.barriers (
    plan_id text NOT NULL,
    wave integer NOT NULL,
    grp text NOT NULL,
    barrier text NOT NULL,
    unit text NOT NULL,
    state text NOT NULL,
    run_id text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, wave, grp, barrier, unit)
  );
  -- Appends events to a plan's chain in one statement: the head row is locked (FOR UPDATE), each event gets the next
  -- seq, the head's hash as prev, and its own hash: sha256 of {"seq":N,BODY,"prev":"P"}, the very text the journal
  -- file's hash is over. The commit is asynchronous, so the head's lock is held for microseconds, not for a WAL
  -- flush; the caller makes it durable with a synchronous commit of its own right after (see PgJournal.flush).
  CREATE FUNCTION ${SCHEMA}.append(p_plan text, p_bodies text[])
  RETURNS TABLE (seq bigint, prev text, hash text) LANGUAGE plpgsql AS $$
  DECLARE
    h_seq bigint;
    h_hash text;
    body text;
    txt text;
    h text;
  BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    INSERT INTO ${SCHEMA}.plans (plan_id) VALUES (p_plan) ON CONFLICT DO NOTHING;
    SELECT p.head_seq, p.head_hash INTO h_seq, h_hash FROM ${SCHEMA}.plans p WHERE p.plan_id = p_plan FOR UPDATE;
    FOREACH body IN ARRAY p_bodies LOOP
      h_seq := h_seq + 1;
      txt := '{"seq":' || h_seq || ',' || body || ',"prev":"' || h_hash || '"}';
      h := encode(sha256(convert_to(txt, 'UTF8')), 'hex');
      INSERT INTO ${SCHEMA}.events (plan_id, seq, line, hash)
        VALUES (p_plan, h_seq, left(txt, -1) || ',"hash":"' || h || '"}', h);
      seq := h_seq;
      prev := h_hash;
      hash := h;
      h_hash := h;
      RETURN NEXT;
    END LOOP;
    UPDATE ${SCHEMA}.plans p SET head_seq = h_seq, head_hash = h_hash WHERE p.plan_id = p_plan;
  END $$;
  `,
  // 2: the session of a runner waiting at a barrier (only live sessions count as there).
  `ALTER TABLE ${SCHEMA}.barriers ADD COLUMN backend_pid integer NOT NULL DEFAULT 0;`,
  // 3: what makes a record live is an advisory lock held now (a unit's own, or the session's presence lock), not a
  // backend pid: behind PgBouncer in session mode a dead runner's server session (and pid) lives on for the next.
  `ALTER TABLE ${SCHEMA}.unit_locks ADD COLUMN lock_key bigint;
   ALTER TABLE ${SCHEMA}.barriers ADD COLUMN presence_key bigint;`,
]

export const SCHEMA_VERSION = MIGRATIONS.length

/** Creates or migrates the tables; refuses a database whose tables a newer migrate made. */
export async function migrateSchema(c: pg.Client): Promise<void> {
  const known = await c.query(`SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'schema_version'`, [
    SCHEMA,
  ])
  if (known.rowCount === 1) {
    const v = await c.query(`SELECT max(version) AS v FROM ${SCHEMA}.schema_version`)
    if (Number(v.rows[0].v) === SCHEMA_VERSION) return
  }
  await c.query('BEGIN')
  try {
    await c.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`)
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`)
    await c.query(
      `CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    )
    const cur = Number((await c.query(`SELECT coalesce(max(version), 0) AS v FROM ${SCHEMA}.schema_version`)).rows[0].v)
    if (cur > SCHEMA_VERSION) {
      throw new MigrateError(
        `the state tables are at schema version ${cur}, newer than this migrate knows (${SCHEMA_VERSION})`,
        {
          code: 'STATE_SCHEMA_NEWER',
          exitCode: EXIT.FAILURE,
          hint: 'A newer migrate ran against this database: upgrade migrate on this machine (the tables are not touched)',
        },
      )
    }
    for (let v = cur + 1; v <= SCHEMA_VERSION; v++) {
      await c.query(MIGRATIONS[v - 1])
      await c.query(`INSERT INTO ${SCHEMA}.schema_version (version) VALUES ($1)`, [v])
    }
    await c.query('COMMIT')
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined)
    throw e
  }
}
