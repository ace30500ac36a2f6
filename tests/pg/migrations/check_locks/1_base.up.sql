CREATE TABLE items (id serial PRIMARY KEY, x integer);
INSERT INTO items (x) SELECT g FROM generate_series(1, 10) g;
