-- one row per email from now on
SELECT migrate_add_unique('users', 'email');
