CREATE INDEX items_x ON items (x);
