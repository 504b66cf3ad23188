-- Schema version 6 (PostgreSQL). The index page lists the newest desks: without an index that
-- sorted every desk (about a second with a million of them); with it the newest few are read off
-- its end, in the page's order (created_at, then seq).
CREATE INDEX desks_by_age ON desks (created_at, seq);
