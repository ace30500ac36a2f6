ALTER SCHEMA t_check_side RENAME TO t_check_side2;
