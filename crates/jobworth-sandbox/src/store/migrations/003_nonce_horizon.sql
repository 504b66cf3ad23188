-- Schema version 3. The pruning horizon of the nonce log: every nonce with a timestamp below it may
-- have been deleted. Processes on one data dir may run with different timestamp windows; one that
-- accepts older timestamps than the process that pruned must refuse requests below the horizon,
-- or a replay of a pruned nonce would pass.
ALTER TABLE generations ADD COLUMN nonces_pruned_before INTEGER NOT NULL DEFAULT 0;
