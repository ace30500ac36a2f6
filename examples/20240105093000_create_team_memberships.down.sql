DROP INDEX team_memberships_user_id_idx;
DROP TABLE team_memberships;
