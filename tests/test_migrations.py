"""The schema exists only through migrations, and they match the models, on SQLite and PostgreSQL."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from petitions import create_app
from petitions.extensions import db

from .conftest import base_config
from .test_privacy_postgres import postgres  # noqa: F401  (the throwaway PostgreSQL cluster)


def _differences() -> list:
    with db.engine.connect() as conn:
        # Server defaults too: the models set none, so a migration must not leave one behind.
        context = MigrationContext.configure(conn, opts={"compare_server_default": True, "compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_on_empty_database_matches_the_models(app):
    assert _differences() == []
    assert {"users", "appeals", "signatures", "alembic_version"} <= set(inspect(db.engine).get_table_names())


def test_downgrade_and_upgrade_again(app):
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert "signatures" in inspect(db.engine).get_table_names()


def test_on_postgresql_the_chain_matches_the_models_and_goes_down_and_up(postgres, tmp_path):  # noqa: F811
    app = create_app({**base_config(tmp_path / "unused.sqlite"), "SQLALCHEMY_DATABASE_URI": postgres["uri"]})
    with app.app_context():
        upgrade()
        assert _differences() == []
        foreign_keys = {fk["name"] for fk in inspect(db.engine).get_foreign_keys("appeals")}
        assert "fk_appeals_published_revision" in foreign_keys
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "signatures" in inspect(db.engine).get_table_names()
        db.engine.dispose()
