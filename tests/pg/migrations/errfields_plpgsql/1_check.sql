-- ef_outer calls ef_check, which refuses with its own SQLSTATE, DETAIL and HINT.
CREATE FUNCTION ef_check(n integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF n > 1 THEN
        RAISE EXCEPTION 'ef_check refuses %', n
            USING ERRCODE = 'MG042', DETAIL = 'n was ' || n, HINT = 'pass 1 or less';
    END IF;
END
$$;
CREATE FUNCTION ef_outer(n integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ef_check(n);
END
$$;
SELECT ef_outer(1);
SELECT ef_outer(2);
