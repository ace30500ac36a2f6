CREATE TABLE ef_ages (age integer);
INSERT INTO ef_ages
	VALUES (1), ('twelve');
