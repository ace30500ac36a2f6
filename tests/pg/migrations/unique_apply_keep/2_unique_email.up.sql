-- the newest row of each email wins; the others go to users_duplicates
SELECT migrate_add_unique('users', 'email', NULL, 'keep_last');
