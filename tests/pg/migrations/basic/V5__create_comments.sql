CREATE TABLE comments (
    id      integer PRIMARY KEY,
    post_id integer NOT NULL REFERENCES posts (id),
    body    text NOT NULL
);
