-- Invoices get a status, and amounts may no longer be negative.
-- SQLite cannot add a CHECK constraint to an existing table, so the table is rebuilt the
-- portable way: create the new shape, copy the rows, drop the old table, rename the new one.
-- (migrate_apply switches foreign key enforcement off for the call and checks
-- PRAGMA foreign_key_check at the end, so the rebuild cannot cascade or dangle.)
CREATE TABLE invoices_new (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES subscriptions (id),
    number          TEXT NOT NULL UNIQUE,
    amount          NUMERIC(12,2) NOT NULL CHECK (amount >= 0),
    currency        TEXT NOT NULL DEFAULT 'EUR',
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('draft', 'open', 'paid', 'void')),
    issued_at       TIMESTAMP NOT NULL,
    paid_at         TIMESTAMP
);

INSERT INTO invoices_new (id, subscription_id, number, amount, currency, status, issued_at, paid_at)
SELECT id, subscription_id, number, amount, currency,
       CASE WHEN paid_at IS NULL THEN 'open' ELSE 'paid' END,
       issued_at, paid_at
FROM invoices;

DROP TABLE invoices;
ALTER TABLE invoices_new RENAME TO invoices;

CREATE INDEX invoices_subscription_id_idx ON invoices (subscription_id);
CREATE INDEX invoices_status_idx ON invoices (status);
