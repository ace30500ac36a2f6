INSERT INTO users VALUES (8, 'e@x'), (9, 'f@x');
