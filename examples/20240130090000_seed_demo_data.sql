-- migrate:up
-- A small demo tenant so a fresh database has something to look at.
INSERT INTO users (id, email, display_name, is_staff, created_at) VALUES
    (1, 'ada@example.com',   'Ada Lovelace', TRUE,  '2024-01-02 09:00:00'),
    (2, 'grace@example.com', 'Grace Hopper', FALSE, '2024-01-02 09:05:00'),
    (3, 'linus@example.com', 'Linus Pauling', FALSE, '2024-01-03 14:30:00');

INSERT INTO teams (id, slug, name, owner_id, created_at) VALUES
    (1, 'analytical-engines', 'Analytical Engines', 1, '2024-01-02 09:10:00');

INSERT INTO team_memberships (team_id, user_id, role, joined_at) VALUES
    (1, 1, 'owner',  '2024-01-02 09:10:00'),
    (1, 2, 'admin',  '2024-01-02 09:12:00'),
    (1, 3, 'member', '2024-01-03 14:35:00');

INSERT INTO projects (id, team_id, name, description, archived, created_at) VALUES
    (1, 1, 'Difference Engine', 'The first prototype', TRUE,  '2024-01-02 10:00:00'),
    (2, 1, 'Bernoulli numbers', 'Note G',              FALSE, '2024-01-02 10:30:00');

INSERT INTO subscriptions (id, team_id, plan_id, status, started_at, ended_at) VALUES
    (1, 1, 1, 'canceled', '2024-01-02 09:10:00', '2024-01-15 00:00:00'),
    (2, 1, 2, 'active',   '2024-01-15 00:00:00', NULL);

INSERT INTO invoices (id, subscription_id, number, amount, currency, issued_at, paid_at) VALUES
    (1, 2, 'INV-2024-0001', 29.00, 'EUR', '2024-01-15 00:00:00', '2024-01-16 08:21:00'),
    (2, 2, 'INV-2024-0002', 29.00, 'EUR', '2024-02-15 00:00:00', NULL);

-- migrate:down
DELETE FROM invoices WHERE id IN (1, 2);
DELETE FROM subscriptions WHERE id IN (1, 2);
DELETE FROM projects WHERE id IN (1, 2);
DELETE FROM team_memberships WHERE team_id = 1;
DELETE FROM teams WHERE id = 1;
DELETE FROM users WHERE id IN (1, 2, 3);
