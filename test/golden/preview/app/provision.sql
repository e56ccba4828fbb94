-- Rendered by db-tier: converge roles, databases and grants. Safe to run any number of times.
\set ON_ERROR_STOP on
\set QUIET on
SET client_min_messages = warning;
SET search_path = pg_catalog;
CREATE TEMP TABLE dbtier_converged (ord int, role text, action text);
BEGIN;
DO $converge$
DECLARE b record; act text;
BEGIN
  SELECT * INTO b FROM pg_authid WHERE rolname = 'postgres';
  IF NOT FOUND THEN
    CREATE ROLE "postgres";
    act := 'created';
  ELSIF b.rolpassword = 'SCRAM-SHA-256$4096:<salt>$<stored-key>:<server-key>' THEN
    act := 'unchanged';
  ELSE
    act := 'updated';
  END IF;
  ALTER ROLE "postgres" WITH PASSWORD 'SCRAM-SHA-256$4096:<salt>$<stored-key>:<server-key>';
  INSERT INTO pg_temp.dbtier_converged VALUES (0, 'postgres', act);
END
$converge$;
DO $converge$
DECLARE b record; act text;
BEGIN
  SELECT * INTO b FROM pg_authid WHERE rolname = 'app_user';
  IF NOT FOUND THEN
    CREATE ROLE "app_user";
    act := 'created';
  ELSIF b.rolpassword = 'SCRAM-SHA-256$4096:<salt>$<stored-key>:<server-key>' AND b.rolcanlogin AND NOT b.rolsuper AND NOT b.rolcreaterole AND NOT b.rolcreatedb AND b.rolreplication = false AND b.rolinherit AND b.rolbypassrls = false THEN
    act := 'unchanged';
  ELSE
    act := 'updated';
  END IF;
  ALTER ROLE "app_user" WITH LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION INHERIT NOBYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:<salt>$<stored-key>:<server-key>';
  INSERT INTO pg_temp.dbtier_converged VALUES (1, 'app_user', act);
END
$converge$;
DO $converge$
DECLARE b record; act text;
BEGIN
  SELECT * INTO b FROM pg_authid WHERE rolname = 'app_service';
  IF NOT FOUND THEN
    CREATE ROLE "app_service";
    act := 'created';
  ELSIF b.rolpassword = 'SCRAM-SHA-256$4096:<salt>$<stored-key>:<server-key>' AND b.rolcanlogin AND NOT b.rolsuper AND NOT b.rolcreaterole AND NOT b.rolcreatedb AND b.rolreplication = false AND b.rolinherit AND b.rolbypassrls = true THEN
    act := 'unchanged';
  ELSE
    act := 'updated';
  END IF;
  ALTER ROLE "app_service" WITH LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION INHERIT BYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:<salt>$<stored-key>:<server-key>';
  INSERT INTO pg_temp.dbtier_converged VALUES (2, 'app_service', act);
END
$converge$;
COMMIT;
SELECT json_build_object('event', 'db-tier.role-converged', 'role', role, 'action', action,
  'at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text
  FROM pg_temp.dbtier_converged ORDER BY ord;
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', datname) FROM pg_catalog.pg_database WHERE datallowconn ORDER BY datname \gexec
\connect template1
SET search_path = pg_catalog;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
\connect postgres
SET search_path = pg_catalog;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SELECT format('CREATE DATABASE %I OWNER %I', 'app', 'postgres')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'app') \gexec
REVOKE ALL ON DATABASE "app" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE "app" TO "app_user", "app_service";
-- Migrations run as app_user (through the session-mode alias): it may create schemas.
GRANT CREATE ON DATABASE "app" TO "app_user";
\connect "app"
SET search_path = pg_catalog;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO "app_user";
GRANT USAGE ON SCHEMA public TO "app_service";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "app_service";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO "app_service";
ALTER DEFAULT PRIVILEGES FOR ROLE "app_user" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "app_service";
ALTER DEFAULT PRIVILEGES FOR ROLE "app_user" IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "app_service";
\connect postgres
SET search_path = pg_catalog;
SELECT format('CREATE DATABASE %I OWNER %I', 'litellm', 'postgres')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'litellm') \gexec
REVOKE ALL ON DATABASE "litellm" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE "litellm" TO "app_user", "app_service";
-- Migrations run as app_user (through the session-mode alias): it may create schemas.
GRANT CREATE ON DATABASE "litellm" TO "app_user";
\connect "litellm"
SET search_path = pg_catalog;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO "app_user";
GRANT USAGE ON SCHEMA public TO "app_service";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "app_service";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO "app_service";
ALTER DEFAULT PRIVILEGES FOR ROLE "app_user" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "app_service";
ALTER DEFAULT PRIVILEGES FOR ROLE "app_user" IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "app_service";
\connect postgres
SET search_path = pg_catalog;
DO $disarm$
BEGIN
  IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'wal_receiver') THEN
    ALTER ROLE "wal_receiver" WITH NOLOGIN NOREPLICATION;
  END IF;
  PERFORM pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots
    WHERE slot_name = 'db_tier_wal_receive' AND NOT active;
END
$disarm$;
-- Clusters provisioned for WAL-G v1 carry its pg_start_backup/pg_stop_backup wrappers in
-- database postgres; WAL-G v3 calls PostgreSQL 15's own functions, so they go.
DROP FUNCTION IF EXISTS public.pg_start_backup(text, boolean, boolean);
DROP FUNCTION IF EXISTS public.pg_stop_backup(boolean);