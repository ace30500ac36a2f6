-- Back to the table without status and without the CHECK on amount.
CREATE TABLE invoices_old (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES subscriptions (id),
    number          TEXT NOT NULL UNIQUE,
    amount          NUMERIC(12,2) NOT NULL,
    currency        TEXT NOT NULL DEFAULT 'EUR',
    issued_at       TIMESTAMP NOT NULL,
    paid_at         TIMESTAMP
);

INSERT INTO invoices_old (id, subscription_id, number, amount, currency, issued_at, paid_at)
SELECT id, subscription_id, number, amount, currency, issued_at, paid_at
FROM invoices;

DROP TABLE invoices;
ALTER TABLE invoices_old RENAME TO invoices;

CREATE INDEX invoices_subscription_id_idx ON invoices (subscription_id);
