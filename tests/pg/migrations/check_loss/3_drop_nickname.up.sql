ALTER TABLE people DROP COLUMN nickname;
