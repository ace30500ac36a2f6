-- Line endings and a UTF-8 BOM do not matter: a CRLF/BOM copy of an applied file is not
-- "modified", and CRLF/BOM files apply, are recorded as LF text and report the right lines.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
\set dir :fixtures '/scratch_text'
SET client_min_messages = warning;
TRUNCATE migrate_history;
CREATE SCHEMA t_text;
SET search_path = t_text, public;
\! rm -rf "$MIGRATE_FIXTURES/scratch_text" && cp -R "$MIGRATE_FIXTURES/text" "$MIGRATE_FIXTURES/scratch_text" && chmod -R a+rX "$MIGRATE_FIXTURES/scratch_text"

SELECT migrate_apply(:'dir') AS applied;
SELECT checksum AS lf_checksum FROM migrate_history \gset

-- Rewrite the applied file with a BOM and CRLF line endings.
\! f="$MIGRATE_FIXTURES/scratch_text/1_lf.sql"; { printf '\357\273\277'; sed 's/$/\r/' "$MIGRATE_FIXTURES/text/1_lf.sql"; } > "$f.new" && mv "$f.new" "$f" && chmod a+r "$f"
SELECT substr(f, 1, 3) = '\xefbbbf'::bytea AS has_bom, position('\x0d0a'::bytea IN f) > 0 AS has_crlf
  FROM pg_read_binary_file(:'dir' || '/1_lf.sql') AS f;
SELECT version, state, checksum = :'lf_checksum' AS same_checksum FROM migrations_status(:'dir');
SELECT migrate_apply(:'dir') AS applied;
SELECT count(*) AS history_rows FROM migrate_history;

-- A new migration written with a BOM and CRLF.
\! printf '\357\273\277CREATE TABLE txt2 (\r\n    id integer\r\n);\r\nINSERT INTO txt2 VALUES (2);\r\n' > "$MIGRATE_FIXTURES/scratch_text/2_crlf.sql" && chmod a+r "$MIGRATE_FIXTURES/scratch_text/2_crlf.sql"
SELECT migrate_apply(:'dir') AS applied;
SELECT version, position(E'\r' IN up_sql) = 0 AS no_cr, left(up_sql, 6) AS starts_with,
       checksum = encode(sha256(convert_to(up_sql, 'UTF8')), 'hex') AS checksum_of_up_sql
  FROM migrate_history ORDER BY id;
SELECT id FROM txt2;

-- A CRLF/BOM file with an error: CONTEXT counts lines as an editor does (line 5, column 3).
\! printf '\357\273\277-- first line\r\n\r\nSELECT 1;\r\nSELECT * FROM\r\n  txt_nowhere;\r\n' > "$MIGRATE_FIXTURES/scratch_text/3_bad.sql" && chmod a+r "$MIGRATE_FIXTURES/scratch_text/3_bad.sql"
SELECT migrate_apply(:'dir');

-- A migration that turns standard_conforming_strings off: the statements after it, in its own
-- script and in the next migration of the same call, are read under the new setting, as psql
-- would read them ('a\\b' is then a, backslash, b: 3 characters, not 4).
TRUNCATE migrate_history;
\set scsdir :fixtures '/text_scs'
SELECT migrate_apply(:'scsdir') AS applied;
SHOW standard_conforming_strings;
SELECT string_agg(n::text, ',') AS lengths FROM scs_lengths;
RESET standard_conforming_strings;
RESET escape_string_warning;

RESET search_path;
DROP SCHEMA t_text CASCADE;
TRUNCATE migrate_history;
\! rm -rf "$MIGRATE_FIXTURES/scratch_text"
