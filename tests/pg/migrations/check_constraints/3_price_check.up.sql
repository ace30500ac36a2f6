ALTER TABLE items ADD CONSTRAINT price_positive CHECK (price > 0);
