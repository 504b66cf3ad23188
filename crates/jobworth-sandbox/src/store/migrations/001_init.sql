-- Schema version 1. Applied inside BEGIN IMMEDIATE together with PRAGMA user_version = 1.

-- The sandbox's own "Alipay" key and CA: exactly one row, created on first start.
CREATE TABLE IF NOT EXISTS sandbox_keys (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    alipay_key_pkcs8 BLOB    NOT NULL,
    root_key_pkcs8   BLOB    NOT NULL,
    root_cert_pem    TEXT    NOT NULL,
    alipay_cert_pem  TEXT    NOT NULL,
    created_at       INTEGER NOT NULL
);

-- Registered merchant apps.
CREATE TABLE IF NOT EXISTS apps (
    app_id          TEXT    PRIMARY KEY,
    public_key_spki BLOB,
    encrypt_key     TEXT,
    app_cert_pem    TEXT,
    app_cert_sn     TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- One acceptance desk = one (conn_key, once_token) verification.
CREATE TABLE IF NOT EXISTS desks (
    desk_id            TEXT    PRIMARY KEY,
    app_id             TEXT    NOT NULL,
    conn_key           TEXT    NOT NULL,
    once_token         TEXT    NOT NULL,
    identity_type      TEXT    NOT NULL,
    service_id         TEXT    NOT NULL,
    order_hash         TEXT,
    order_str          TEXT,
    persona            TEXT,
    state              TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'terminal', 'cancelled')),
    result             TEXT,
    became_terminal_at INTEGER,
    consumed           INTEGER NOT NULL DEFAULT 0 CHECK (consumed IN (0, 1)),
    consumed_at        INTEGER,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS desks_by_token ON desks (app_id, conn_key, once_token);
CREATE UNIQUE INDEX IF NOT EXISTS desks_by_order ON desks (app_id, order_hash) WHERE order_hash IS NOT NULL;

-- Request nonces seen within the timestamp window (replay protection).
CREATE TABLE IF NOT EXISTS nonces (
    app_id TEXT    NOT NULL,
    nonce  TEXT    NOT NULL,
    ts     INTEGER NOT NULL,
    PRIMARY KEY (app_id, nonce)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nonces_by_ts ON nonces (ts);
