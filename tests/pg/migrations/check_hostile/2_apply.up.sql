SELECT migrate_apply('/nonexistent');
