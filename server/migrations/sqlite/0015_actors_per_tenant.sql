-- ADR 0013. An actor id belongs, per tenant, to the login and phone that first delivered
-- its changes; the same actor from anyone else is refused. Keyed per tenant, so an actor
-- id seen in one tenant binds nothing in another.
CREATE TABLE actors_per_tenant (
    tenant      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    device_id   TEXT,
    first_seen  INTEGER NOT NULL,
    PRIMARY KEY (tenant, actor)
);
INSERT INTO actors_per_tenant (tenant, actor, user_id, device_id, first_seen)
    SELECT tenant, actor, user_id, device_id, first_seen FROM actors;
DROP TABLE actors;
ALTER TABLE actors_per_tenant RENAME TO actors;
