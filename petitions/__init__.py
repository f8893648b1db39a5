"""Petitions: appeal letters and their signatories."""
import os

from flask import Flask
from flask_babel import lazy_gettext as _l

from petitions.config import Defaults


class ConfigError(RuntimeError):
    """Refuse to start with settings that would be unsafe."""


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app from defaults, instance/config.py and FLASK_* variables; test_config wins."""
    # PETITIONS_INSTANCE_PATH lets a deployment keep secrets and data outside the code checkout.
    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.environ.get("PETITIONS_INSTANCE_PATH") or None)
    app.config.from_object(Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env()
    if test_config is not None:
        # Tests describe their whole configuration; a developer's instance/config.py must not leak in.
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = os.path.join(app.instance_path, "petitions.sqlite")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    _check_secrets(app)
    hops = {part: int(app.config[f"PROXY_FIX_X_{part.upper()}"])
            for part in ("for", "proto", "host", "port", "prefix")}
    if any(hops.values()):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Trust exactly the configured hops: X-Forwarded-* entries beyond them are the client's to forge.
        app.wsgi_app = ProxyFix(app.wsgi_app, **{f"x_{part}": n for part, n in hops.items()})

    from petitions import http

    http.init_app(app)  # before any route is added: bounded <int:…>, safe JSON and uploads for forms
    _init_extensions(app)
    _register_blueprints(app)
    _init_safety(app)

    from petitions import cli
    from petitions.appeals.markdown import render_markdown
    from petitions.urls import external_url

    app.add_template_filter(render_markdown, "markdown")
    app.add_template_global(external_url)
    cli.register(app)
    return app


def _check_secrets(app: Flask) -> None:
    missing = [k for k in ("SECRET_KEY", "EMAIL_HASH_KEY", "DATA_KEYS") if not app.config.get(k)]
    if missing:
        raise ConfigError(
            f"Missing {', '.join(missing)}: run `make instance` (writes random keys to "
            f"{app.instance_path}/config.py) or set FLASK_{missing[0]}."
        )


def _init_extensions(app: Flask) -> None:
    from petitions import ratelimit
    from petitions.extensions import babel, csrf, db, login_manager, mail, migrate, tune_engines
    from petitions.mail import sending

    db.init_app(app)
    tune_engines(app)
    from petitions import models  # noqa: F401  (registers every table for Alembic)

    # Batch mode lets Alembic alter tables on SQLite, which has almost no ALTER TABLE.
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    mail.init_app(app)
    ratelimit.init_app(app)
    from petitions import i18n

    babel.init_app(app, locale_selector=i18n.selected_locale)
    i18n.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to access this page.")
    sending.init_app(app)
    from petitions import cache, jobs

    jobs.init_app(app)
    cache.init_app(app)  # rendered public pages: in this process, or Redis with PAGE_CACHE_URL
    if not app.testing:  # the web process sends mail left waiting by an earlier run; tests start it by committing
        app.before_request(sending.start_worker)
        app.before_request(jobs.start_worker)


def _init_safety(app: Flask) -> None:
    from petitions import security
    from petitions.api.v1 import bp as api_v1_bp
    from petitions.api.views import bp as api_tokens_bp
    from petitions.extensions import csrf
    from petitions.privacy import retention  # noqa: F401  (SQLite overwrites deleted rows)
    from petitions.privacy.views import bp as privacy_bp
    from petitions.privacy.views_organizer import bp as privacy_organizer_bp

    security.init_app(app)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(privacy_organizer_bp)
    csrf.exempt(api_v1_bp)  # no cookies: public JSON writes and bearer tokens; forms live elsewhere
    app.register_blueprint(api_v1_bp)
    app.register_blueprint(api_tokens_bp)


def _register_blueprints(app: Flask) -> None:
    from petitions import errors
    from petitions.appeals.views_organizer import bp as organizer_bp
    from petitions.appeals.views_public import bp as public_bp
    from petitions.auth.views import bp as auth_bp
    from petitions.mail.outbox import bp as outbox_bp
    from petitions.signing.views import bp as signatures_bp
    from petitions.webfonts import bp as fonts_bp
    from petitions.i18n.catalogs import translate_command
    from petitions.translations.views_organizer import bp as translations_bp
    from petitions.pdf.views import bp as pdfs_bp, public as public_pdf_bp
    from petitions.pdf.verify import bp as verify_bp
    from petitions.signatories.views import bp as signatories_bp
    from petitions.registry.views import bp as registry_public_bp
    from petitions.registry.views_organizer import bp as registry_bp
    from petitions.members.views import bp as members_bp
    from petitions.updates.views import bp as updates_bp
    from petitions.delivery.views import bp as delivery_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(signatures_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(organizer_bp)
    app.register_blueprint(translations_bp)
    app.register_blueprint(fonts_bp)
    app.cli.add_command(translate_command)
    app.register_blueprint(pdfs_bp)
    app.register_blueprint(public_pdf_bp)
    app.register_blueprint(verify_bp)
    app.register_blueprint(signatories_bp)
    app.register_blueprint(registry_public_bp)
    app.register_blueprint(registry_bp)
    app.register_blueprint(members_bp)
    app.register_blueprint(updates_bp)
    app.register_blueprint(delivery_bp)
    if app.config["DEV_OUTBOX"]:
        app.register_blueprint(outbox_bp)
    errors.register(app)

    from petitions.translations.public import version_title, version_url
    app.add_template_global(version_title)
    app.add_template_global(version_url)

    @app.context_processor
    def _globals():
        return {"dev_outbox_enabled": app.config["DEV_OUTBOX"]}
