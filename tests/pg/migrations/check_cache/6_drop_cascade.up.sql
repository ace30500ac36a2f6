-- the view and the materialized view go with it
DROP TABLE base CASCADE;
DROP TABLE t_check_side2.gone, "Mixed Case";
