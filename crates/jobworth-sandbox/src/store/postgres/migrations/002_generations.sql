-- Schema version 2 (PostgreSQL). Change counters for apps and desks, bumped by triggers in the
-- transaction of every write from any instance. The nonce insert every v3 request makes returns
-- them, so an instance can keep apps and desks in memory and know, without another statement,
-- whether what it holds is still current.
CREATE TABLE generations (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    apps  BIGINT  NOT NULL,
    desks BIGINT  NOT NULL
);
INSERT INTO generations (id, apps, desks) VALUES (1, 0, 0) ON CONFLICT DO NOTHING;

CREATE FUNCTION jobworth_table_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'apps' THEN
        UPDATE generations SET apps = apps + 1;
    ELSE
        UPDATE generations SET desks = desks + 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER apps_changed AFTER INSERT OR UPDATE OR DELETE ON apps
    FOR EACH ROW EXECUTE FUNCTION jobworth_table_changed();
CREATE TRIGGER desks_changed AFTER INSERT OR UPDATE OR DELETE ON desks
    FOR EACH ROW EXECUTE FUNCTION jobworth_table_changed();
