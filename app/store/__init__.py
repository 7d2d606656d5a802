"""The SQLAlchemy store. Every table is scoped by ``member_id`` (many portals at once).

Model modules live directly in this package; ``app.store.migrate.import_models`` imports all
of them (pkgutil) so Alembic's env and tests see every table without a central list.
"""
