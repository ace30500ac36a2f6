INSERT INTO scs_lengths SELECT length('a\\b');
