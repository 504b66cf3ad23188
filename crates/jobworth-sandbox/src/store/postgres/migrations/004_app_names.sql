-- Schema version 4 (PostgreSQL). A display name an app may register, shown on the desk as the merchant.
ALTER TABLE apps ADD COLUMN name TEXT;
