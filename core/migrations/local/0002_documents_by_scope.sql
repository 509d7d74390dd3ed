-- Phones look a document up by its scope (a document the relay rewrote has a new id under
-- the same scope, ADR 0037): one indexed query instead of a listing per lookup.
CREATE INDEX documents_by_scope ON documents(scope);
