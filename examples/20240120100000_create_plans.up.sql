-- The price list. Plans are reference data, so the rows ship with the migration.
CREATE TABLE plans (
    id            INTEGER PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    monthly_price NUMERIC(12,2) NOT NULL,
    max_projects  INTEGER,             -- NULL: unlimited
    is_public     BOOLEAN NOT NULL DEFAULT TRUE
);

INSERT INTO plans (id, code, name, monthly_price, max_projects, is_public) VALUES
    (1, 'free',     'Free',       0.00,    3, TRUE),
    (2, 'pro',      'Pro',       29.00,   50, TRUE),
    (3, 'business', 'Business', 199.00, NULL, TRUE),
    (4, 'legacy',   'Legacy',    19.00,   20, FALSE);
