CREATE TABLE after_dup (x integer);
