CREATE TABLE invoices (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES subscriptions (id),
    number          TEXT NOT NULL UNIQUE,
    amount          NUMERIC(12,2) NOT NULL,
    currency        TEXT NOT NULL DEFAULT 'EUR',
    issued_at       TIMESTAMP NOT NULL,
    paid_at         TIMESTAMP
);

CREATE INDEX invoices_subscription_id_idx ON invoices (subscription_id);
