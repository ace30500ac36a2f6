SELECT * FROM migrate_check('/nonexistent');
