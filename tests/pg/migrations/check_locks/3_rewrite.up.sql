ALTER TABLE items ADD COLUMN r double precision DEFAULT random();
