"""Alembic environment: the engine comes from casework.persistence.migrate, never from an ini file."""

from alembic import context

from casework.persistence.tables import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    driver = connection.connection.driver_connection
    if sqlite:
        # Batch migrations rebuild a table by copy, drop and rename; with foreign keys on, SQLite
        # refuses to drop a table other rows refer to. Off only outside the transaction (SQLite
        # ignores the pragma inside one), checked before commit, on again afterwards.
        driver.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        connection.commit()
    finally:
        if sqlite:
            driver.execute("PRAGMA foreign_keys=ON")
