UPDATE items SET price = 1 WHERE id = 2;
ALTER TABLE items ADD CONSTRAINT price_not_negative CHECK (price >= 0);
