this folder has no version, so it is ignored; THIS IS NOT SQL
