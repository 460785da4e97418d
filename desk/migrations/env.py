"""Alembic environment for the desk's tables (they share the tracker store's database)."""

from __future__ import annotations

from alembic import context

from desk.storage import VERSION_TABLE, make_engine, metadata

url = context.config.get_main_option("sqlalchemy.url")
assert url, "sqlalchemy.url is set by desk.storage.migrate"
engine = make_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        # Only the desk's tables: Rasa owns the rest of this database.
        include_name=lambda name, type_, parent: (
            type_ != "table" or (name or "").startswith("desk_")
        ),
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
