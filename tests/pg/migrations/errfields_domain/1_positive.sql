CREATE SCHEMA ef_domain;
CREATE DOMAIN ef_domain.positive AS integer CONSTRAINT positive_check CHECK (VALUE > 0);
SELECT CAST(-1 AS ef_domain.positive);
