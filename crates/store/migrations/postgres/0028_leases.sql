-- Work that must happen once while several servers share one database (scheduling runs,
-- driving a rollout, the monitor's probes, …) is owned through a lease: one row per piece of
-- work naming its holder (a server), until when it holds it, and a fencing number that grows
-- each time the lease changes hands. A holder writes as owner only while the row still names
-- its fence, so a server that lost its lease (paused, cut off, presumed dead) cannot write as
-- owner any more, even if it has not noticed yet.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    fence      BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
