-- ADR 0013. An actor id belongs, per tenant, to the login and phone that first delivered
-- its changes; the same actor from anyone else is refused. Keyed per tenant, so an actor
-- id seen in one tenant binds nothing in another.
ALTER TABLE actors DROP CONSTRAINT actors_pkey;
ALTER TABLE actors ADD PRIMARY KEY (tenant, actor);
DROP INDEX actors_by_tenant;
