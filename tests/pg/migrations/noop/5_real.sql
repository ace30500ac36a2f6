CREATE TABLE noop_after (id integer);
