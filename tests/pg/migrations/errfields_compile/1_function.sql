-- The body of ef_bad does not compile: SELEC on line 5.
CREATE FUNCTION ef_bad() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1;
    SELEC 1;
END
$$;
