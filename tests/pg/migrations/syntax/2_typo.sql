CREATE TABLE syn_typo (id integer);

CREATE TABLE syn_typo2 (
    id integer,
    name txet NOT NUL
);
