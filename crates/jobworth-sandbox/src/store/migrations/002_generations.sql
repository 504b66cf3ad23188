-- Schema version 2. Change counters for apps and desks, bumped by triggers on every write from any
-- process. The nonce insert every v3 request makes returns them, so a process can keep apps and
-- desks in memory and know, without another statement, whether what it holds is still current.
CREATE TABLE IF NOT EXISTS generations (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    apps  INTEGER NOT NULL,
    desks INTEGER NOT NULL
);
INSERT OR IGNORE INTO generations (id, apps, desks) VALUES (1, 0, 0);

CREATE TRIGGER IF NOT EXISTS apps_inserted AFTER INSERT ON apps BEGIN UPDATE generations SET apps = apps + 1; END;
CREATE TRIGGER IF NOT EXISTS apps_updated AFTER UPDATE ON apps BEGIN UPDATE generations SET apps = apps + 1; END;
CREATE TRIGGER IF NOT EXISTS apps_deleted AFTER DELETE ON apps BEGIN UPDATE generations SET apps = apps + 1; END;
CREATE TRIGGER IF NOT EXISTS desks_inserted AFTER INSERT ON desks BEGIN UPDATE generations SET desks = desks + 1; END;
CREATE TRIGGER IF NOT EXISTS desks_updated AFTER UPDATE ON desks BEGIN UPDATE generations SET desks = desks + 1; END;
CREATE TRIGGER IF NOT EXISTS desks_deleted AFTER DELETE ON desks BEGIN UPDATE generations SET desks = desks + 1; END;
