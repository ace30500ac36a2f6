-- appended to a copy of basic/ at test time: fails after 1 to 5 would have applied
CREATE TABLE broken (id integer);
SELECT * FROM nowhere;
