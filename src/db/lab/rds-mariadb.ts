// An Amazon RDS for MariaDB stand-in on a real mariadbd: the master user gets exactly the privileges RDS gives it
// (no SUPER, BINLOG ADMIN, REPLICATION SLAVE ADMIN, READ_ONLY ADMIN, SLAVE MONITOR, CONNECTION ADMIN), and the
// mysql.rds_* procedures RDS offers instead are installed under their real names and signatures as SQL SECURITY
// DEFINER procedures owned by a locked administrative account, which is how RDS provides them. A runbook that
// still says CHANGE MASTER, SET GLOBAL read_only, SET sql_log_bin or SHOW SLAVE STATUS fails here as on RDS.

/** RDS for MariaDB master user privileges (AWS "Master user account privileges"); REPLICATION CLIENT is BINLOG MONITOR in 10.5+. */
export const RDS_MARIADB_MASTER_PRIVILEGES = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'RELOAD',
  'PROCESS',
  'REFERENCES',
  'INDEX',
  'ALTER',
  'SHOW DATABASES',
  'CREATE TEMPORARY TABLES',
  'LOCK TABLES',
  'EXECUTE',
  'REPLICATION CLIENT',
  'CREATE VIEW',
  'SHOW VIEW',
  'CREATE ROUTINE',
  'ALTER ROUTINE',
  'CREATE USER',
  'EVENT',
  'TRIGGER',
  'REPLICATION SLAVE',
]

const DEFINER = '`rdsadmin`@`localhost`'

/** The procedures, one statement each (no DELIMITER needed when sent one by one). */
export const RDS_MARIADB_PROCEDURES: string[] = [
  `CREATE TABLE IF NOT EXISTS mysql.rds_configuration (name varchar(100) PRIMARY KEY, value varchar(100) NULL, description varchar(300) NOT NULL) ENGINE=InnoDB`,
  `INSERT IGNORE INTO mysql.rds_configuration VALUES ('binlog retention hours', NULL, 'binlog retention hours specifies the duration in hours before binary logs are automatically deleted.'), ('source delay', '0', 'source delay specifies replication delay in seconds between current instance and its master.'), ('target delay', '0', 'target delay specifies replication delay in seconds between current instance and its future read-replica.')`,
  `CREATE OR REPLACE DEFINER=${DEFINER} PROCEDURE mysql.rds_set_external_master_gtid(IN host_name varchar(255), IN host_port int, IN replication_user_name varchar(255), IN replication_user_password varchar(255), IN gtid varchar(255), IN ssl_encryption tinyint)
   SQL SECURITY DEFINER
   BEGIN
     IF (SELECT COUNT(*) FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'SLAVE_RUNNING' AND VARIABLE_VALUE = 'ON') > 0 THEN
       SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'Slave is running. Stop replication with mysql.rds_stop_replication first.';
     END IF;
     IF host_name IS NULL OR host_port IS NULL OR replication_user_name IS NULL OR gtid IS NULL OR gtid = '' THEN
       SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'Invalid input: host_name, host_port, replication_user_name and gtid are required.';
     END IF;
     SET GLOBAL gtid_slave_pos = gtid;
     SET @rds_sql = CONCAT('CHANGE MASTER TO MASTER_HOST = ', QUOTE(host_name), ', MASTER_PORT = ', host_port, ', MASTER_USER = ', QUOTE(replication_user_name), ', MASTER_PASSWORD = ', QUOTE(COALESCE(replication_user_password, '')), ', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1, MASTER_SSL = ', IF(ssl_encryption = 1, 1, 0));
     PREPARE rds_stmt FROM @rds_sql;
     SET @rds_sql = NULL;
     EXECUTE rds_stmt;
     DEALLOCATE PREPARE rds_stmt;
   END`,
  `CREATE OR REPLACE DEFINER=${DEFINER} PROCEDURE mysql.rds_start_replication()
   SQL SECURITY DEFINER
   BEGIN
     START SLAVE;
   END`,
  `CREATE OR REPLACE DEFINER=${DEFINER} PROCEDURE mysql.rds_stop_replication()
   SQL SECURITY DEFINER
   BEGIN
     STOP SLAVE;
   END`,
  `CREATE OR REPLACE DEFINER=${DEFINER} PROCEDURE mysql.rds_reset_external_master()
   SQL SECURITY DEFINER
   BEGIN
     STOP SLAVE;
     RESET SLAVE ALL;
   END`,
  `CREATE OR REPLACE DEFINER=${DEFINER} PROCEDURE mysql.rds_replica_status()
   SQL SECURITY DEFINER
   BEGIN
     SHOW SLAVE STATUS;
   END`,
  `CREATE OR REPLACE DEFINER=${DEFINER} PROCEDURE mysql.rds_kill(IN thread bigint)
   SQL SECURITY DEFINER
   BEGIN
     IF (SELECT USER FROM information_schema.PROCESSLIST WHERE ID = thread) IN ('rdsadmin', 'rdsrepladmin', 'system user') THEN
       SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ERROR (RDS): CANNOT KILL RDSADMIN SESSION';
     END IF;
     SET @rds_sql = CONCAT('KILL CONNECTION ', thread);
     PREPARE rds_stmt FROM @rds_sql;
     EXECUTE rds_stmt;
     DEALLOCATE PREPARE rds_stmt;
   END`,
  `CREATE OR REPLACE DEFINER=${DEFINER} PROCEDURE mysql.rds_kill_query(IN thread bigint)
   SQL SECURITY DEFINER
   BEGIN
     SET @rds_sql = CONCAT('KILL QUERY ', thread);
     PREPARE rds_stmt FROM @rds_sql;
     EXECUTE rds_stmt;
     DEALLOCATE PREPARE rds_stmt;
   END`,
  `CREATE OR REPLACE DEFINER=${DEFINER} PROCEDURE mysql.rds_set_configuration(IN name varchar(100), IN value int)
   SQL SECURITY DEFINER
   BEGIN
     IF name NOT IN (SELECT c.name FROM mysql.rds_configuration c) THEN
       SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'Invalid configuration name.';
     END IF;
     IF name = 'binlog retention hours' AND value IS NOT NULL AND (value < 1 OR value > 2160) THEN
       SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'For binlog retention hours the value must be between 1 and 2160 or NULL.';
     END IF;
     UPDATE mysql.rds_configuration c SET c.value = value WHERE c.name = name;
   END`,
  `CREATE OR REPLACE DEFINER=${DEFINER} PROCEDURE mysql.rds_show_configuration()
   SQL SECURITY DEFINER
   BEGIN
     SELECT name, value, description FROM mysql.rds_configuration;
   END`,
]

/** Statements run as root that turn a fresh mariadbd into the RDS stand-in with master user `user`@`host`. */
export function rdsMariadbSetup(user: string, host: string): string[] {
  const account = `'${user.replace(/'/g, "''")}'@'${host.replace(/'/g, "''")}'`
  return [
    "CREATE USER IF NOT EXISTS 'rdsadmin'@'localhost' ACCOUNT LOCK",
    "GRANT ALL PRIVILEGES ON *.* TO 'rdsadmin'@'localhost' WITH GRANT OPTION",
    ...RDS_MARIADB_PROCEDURES,
    `CREATE USER IF NOT EXISTS ${account}`,
    `GRANT ${RDS_MARIADB_MASTER_PRIVILEGES.join(', ')} ON *.* TO ${account} WITH GRANT OPTION`,
  ]
}
