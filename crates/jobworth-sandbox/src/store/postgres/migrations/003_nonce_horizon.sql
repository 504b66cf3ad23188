-- Schema version 3 (PostgreSQL). The pruning horizon of the nonce log: every nonce with a timestamp
-- below it may have been deleted. Instances may run with different timestamp windows; one that
-- accepts older timestamps than the instance that pruned must refuse requests below the horizon,
-- or a replay of a pruned nonce would pass.
ALTER TABLE generations ADD COLUMN nonces_pruned_before BIGINT NOT NULL DEFAULT 0;
