INSERT INTO items (x) VALUES (11), (12);
