SET escape_string_warning = off;
SET standard_conforming_strings = off;
CREATE TABLE scs_lengths (n integer);
INSERT INTO scs_lengths SELECT length('a\\b');
