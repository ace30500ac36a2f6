CREATE FUNCTION ef_reader() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM * FROM ef_nowhere;
END
$$;
SELECT ef_reader();
