SELECT migrate_add_unique('users', 'email');
