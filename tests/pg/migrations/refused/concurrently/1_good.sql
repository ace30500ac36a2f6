-- a good migration: it must not be applied when a later one is refused
CREATE TABLE rf_good (id integer);
