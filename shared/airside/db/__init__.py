"""The database, for PostgreSQL and SQLite, one module per concern.

`columns` (the UTC instant column type), `engine` (creating one, with its pool's idle ping),
`outage` (telling an unreachable database from a refused statement), `database` (the `Database`
a service holds, and its raw driver connection), `dependencies` (a request's session and
database), `rows` (instances built like loaded rows), `inserts` (INSERT … ON CONFLICT DO NOTHING
on both databases) and `upgrade` (running a service's Alembic migrations).
"""
