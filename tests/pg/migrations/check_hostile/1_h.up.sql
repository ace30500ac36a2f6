CREATE TABLE h (x integer);
