/* A block comment; /* nested */ is still a comment; DROP TABLE notes; */
-- a line comment with a ; semicolon
CREATE TABLE notes (
    id   integer PRIMARY KEY,
    body text NOT NULL
);

INSERT INTO notes VALUES (1, 'semi;colon'), (2, 'not -- a comment'), (3, 'it''s; quoted');
INSERT INTO notes VALUES (4, E'escaped \' quote; still text');
INSERT INTO notes VALUES (5, $$dollar; quoted 'text'$$);

CREATE TABLE "odd;name" ("semi;col" text);

CREATE FUNCTION note_count() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    -- a ';' in a function body
    SELECT count(*) INTO n FROM notes;
    RETURN n;
END;
$$;

CREATE FUNCTION shout(t text) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT upper(t) || '!; $$ is not the end';
$fn$;

DO $do$
BEGIN
    INSERT INTO notes VALUES (6, 'from a DO block; with a semicolon');
    EXECUTE 'INSERT INTO "odd;name" VALUES (''x;y'')';
END
$do$;

ANALYZE notes;

-- the last statement has no semicolon
COMMENT ON TABLE notes IS 'notes; with a semicolon'
