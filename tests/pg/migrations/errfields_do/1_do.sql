CREATE TABLE ef_do (id integer);
DO $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'ef_do refuses', ERRCODE = 'MG043', DETAIL = 'from a DO block',
        HINT = 'do not';
END
$$;
