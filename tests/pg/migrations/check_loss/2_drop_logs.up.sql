DROP TABLE old_logs;
