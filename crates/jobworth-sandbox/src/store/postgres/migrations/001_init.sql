-- Schema version 1 (PostgreSQL). Applied in one transaction under the migration lock.

-- The sandbox's own "Alipay" key and CA: exactly one row, created by the first instance to start.
CREATE TABLE sandbox_keys (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    alipay_key_pkcs8 BYTEA   NOT NULL,
    root_key_pkcs8   BYTEA   NOT NULL,
    root_cert_pem    TEXT    NOT NULL,
    alipay_cert_pem  TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL
);

-- Registered merchant apps.
CREATE TABLE apps (
    app_id          TEXT    PRIMARY KEY,
    public_key_spki BYTEA,
    encrypt_key     TEXT,
    app_cert_pem    TEXT,
    app_cert_sn     TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);

-- One acceptance desk = one (conn_key, once_token) verification. `seq` stands in for SQLite's
-- rowid: the order of insertion, for listing.
CREATE TABLE desks (
    desk_id            TEXT    PRIMARY KEY,
    seq                BIGINT  GENERATED ALWAYS AS IDENTITY,
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
    became_terminal_at BIGINT,
    consumed           BOOLEAN NOT NULL DEFAULT FALSE,
    consumed_at        BIGINT,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL
);
CREATE UNIQUE INDEX desks_by_token ON desks (app_id, conn_key, once_token);
CREATE UNIQUE INDEX desks_by_order ON desks (app_id, order_hash) WHERE order_hash IS NOT NULL;

-- Request nonces seen within the timestamp window (replay protection): the primary key refuses
-- a second insert of the same nonce, whichever instance makes it.
CREATE TABLE nonces (
    app_id TEXT   NOT NULL,
    nonce  TEXT   NOT NULL,
    ts     BIGINT NOT NULL,
    PRIMARY KEY (app_id, nonce)
);
CREATE INDEX nonces_by_ts ON nonces (ts);
