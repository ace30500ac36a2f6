ALTER TABLE items ALTER COLUMN price TYPE numeric(10,0);
