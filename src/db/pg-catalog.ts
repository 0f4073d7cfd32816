// What the PostgreSQL helpers read from the catalog alike: the user tables, a setting, and their password options.
import type pg from 'pg'

export interface PgOpts {
  sourcePasswordEnv?: string
  targetPasswordEnv?: string
}

/** The user tables (not partitions), with their replica identity, persistence and whether they have a primary key. */
export const USER_TABLES = `
  SELECT n.nspname AS schema, c.relname AS name, c.oid::regclass::text AS qname, c.relreplident AS ident,
         c.relpersistence AS persistence,
         EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
   ORDER BY 1, 2`

export async function setting(c: pg.Client, name: string): Promise<string> {
  return (await c.query('SELECT current_setting($1) AS v', [name])).rows[0].v
}
