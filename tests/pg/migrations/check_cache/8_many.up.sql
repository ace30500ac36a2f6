DO $$
BEGIN
  FOR i IN 1..1100 LOOP
    EXECUTE format('CREATE TABLE many_%s (id integer)', i);
  END LOOP;
END $$;
ALTER TABLE quiet DROP COLUMN id;
