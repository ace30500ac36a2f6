CREATE TABLE audit (at timestamptz DEFAULT now(), what text);
CREATE FUNCTION audit_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit (what) VALUES ('account ' || NEW.id || ';');
  RETURN NEW;
END
$$;
CREATE TRIGGER accounts_audit AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION audit_account();
