-- A short job's log chunk (at most 64 KiB compressed: most jobs' whole log) is kept in its row
-- rather than as a blob file: recorded with the job's end in one transaction, it needs no file
-- of its own, no fsync before the row and no rename. Longer chunks stay blobs (`data` NULL).
ALTER TABLE log_chunks ADD COLUMN data BLOB;
