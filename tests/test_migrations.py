"""The schema exists only through migrations, and they match the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from petitions.extensions import db


def test_upgrade_on_empty_database_matches_the_models(app):
    with db.engine.connect() as conn:
        # Server defaults too: the models set none, so a migration must not leave one behind.
        context = MigrationContext.configure(conn, opts={"compare_server_default": True, "compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []
    assert {"users", "appeals", "signatures", "alembic_version"} <= set(inspect(db.engine).get_table_names())


def test_downgrade_and_upgrade_again(app):
    from flask_migrate import downgrade, upgrade

    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert "signatures" in inspect(db.engine).get_table_names()
