-- Schema version 6. The index page lists the newest desks: without an index that sorted every
-- desk (seconds with a million of them); with it the newest few are read off its end.
CREATE INDEX IF NOT EXISTS desks_by_age ON desks (created_at);
