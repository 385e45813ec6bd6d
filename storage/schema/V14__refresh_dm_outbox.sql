-- Issue: a bot stopped (or killed) after a member's weekly refresh sorted but before its summary DM
-- went out lost the summary: the runs said 'succeeded', nobody was told.
--
-- 1. The DMs a weekly refresh has to send, written in the transaction that ends the refresh (with
-- its progress cleared), sent from here, and deleted in the transaction that records on the runs
-- what became of them. `tried_at`: when a send began whose answer never came (the DM may have
-- arrived): it is sent again under the same enforced nonce while Discord would recognise it, never
-- after. The message as Discord takes it: its text, its embed (JSON), one attachment.
CREATE TABLE refresh_dms (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    discord_id       INTEGER NOT NULL,
    run_ids          TEXT NOT NULL,  -- JSON array: the runs whose dm_status its outcome sets
    content          TEXT,
    embed            TEXT,
    attachment_name  TEXT,
    attachment       BLOB,
    queued_at        REAL NOT NULL,
    tried_at         REAL
);
CREATE INDEX refresh_dms_by_member ON refresh_dms (discord_id, id);

-- 2. A claimed refresh that has not ended yet (its DMs not queued, its run not given back): at
-- start-up it is due again, as one a dead process left 'running' is, so a process that died
-- between a sort's end and the queueing of its summary sorts again (carrying what it did) and tells.
ALTER TABLE schedules ADD COLUMN unfinished INTEGER NOT NULL DEFAULT 0;
