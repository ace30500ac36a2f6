DROP INDEX accounts_owner_idx;
