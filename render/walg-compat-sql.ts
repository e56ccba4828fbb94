/**
 * PostgreSQL 15 renamed the low-level backup functions (pg_start_backup/pg_stop_backup became
 * pg_backup_start/pg_backup_stop). The WAL-G the tier pins (v1.1.1, the newest version the
 * Go module proxy here serves, see scripts/install-tools.sh) still calls the old names, in
 * non-exclusive mode only. These two wrappers give it the old names in the database the
 * backup job connects to, mapped one-to-one onto the new functions. They run with the
 * caller's rights (SECURITY INVOKER), so they grant nothing: only a role that may call
 * pg_backup_start may call them. Remove them when the WAL-G pin moves to v2 or later.
 */
export const WALG_COMPAT_DATABASE = "postgres";

export function renderWalgCompatSql(): string {
    return `-- WAL-G v1 on PostgreSQL 15: the pre-15 names of the non-exclusive backup functions.
CREATE OR REPLACE FUNCTION public.pg_start_backup(label text, fast boolean, exclusive boolean)
  RETURNS pg_lsn LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog AS $compat$
BEGIN
  IF exclusive THEN
    RAISE EXCEPTION 'exclusive backups do not exist in PostgreSQL 15';
  END IF;
  RETURN pg_catalog.pg_backup_start(label, fast);
END
$compat$;
CREATE OR REPLACE FUNCTION public.pg_stop_backup(exclusive boolean, OUT lsn pg_lsn, OUT labelfile text, OUT spcmapfile text)
  RETURNS record LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog AS $compat$
BEGIN
  IF exclusive THEN
    RAISE EXCEPTION 'exclusive backups do not exist in PostgreSQL 15';
  END IF;
  SELECT s.lsn, s.labelfile, s.spcmapfile INTO lsn, labelfile, spcmapfile FROM pg_catalog.pg_backup_stop(true) s;
END
$compat$;
REVOKE ALL ON FUNCTION public.pg_start_backup(text, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.pg_stop_backup(boolean) FROM PUBLIC;
`;
}
