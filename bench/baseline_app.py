"""The bare Flask baseline of bench/load.py, served by gunicorn exactly as the app is.

`GET /hello` answers a word; `GET /form` gives a session cookie and a CSRF token (Flask-WTF, as the app);
`POST /insert` checks the token and inserts one row into the same kind of database (BASELINE_DATABASE_URI),
then redirects (303) as the app's sign form does.
"""
import os

from flask import Flask, redirect, render_template_string, request
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, func, insert

metadata = MetaData()
rows = Table("baseline_rows", metadata, Column("id", Integer, primary_key=True), Column("name", String(200)),
             Column("email", String(254), unique=True), Column("created_at", DateTime, server_default=func.now()))
FORM = ('<form method="post" action="/insert"><input name="csrf_token" type="hidden" value="{{ csrf_token() }}">'
        '<input name="name"><input name="email"><button>Send</button></form>')


def create_schema(uri: str) -> None:
    """Create the baseline's one table (before gunicorn starts, so workers never race to create it)."""
    engine = create_engine(uri)
    metadata.create_all(engine)
    engine.dispose()


def make_app(uri: str) -> Flask:
    """Return the baseline app on the database at uri."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="baseline", WTF_CSRF_TIME_LIMIT=None)
    CSRFProtect(app)
    engine = create_engine(uri, pool_pre_ping=True)

    @app.get("/hello")
    def hello():
        return "hello"

    @app.get("/form")
    def form():
        return render_template_string(FORM)

    @app.post("/insert")
    def insert_row():
        with engine.begin() as conn:
            conn.execute(insert(rows).values(name=request.form["name"], email=request.form["email"]))
        return redirect("/form", code=303)

    return app


if os.environ.get("BASELINE_DATABASE_URI"):
    app = make_app(os.environ["BASELINE_DATABASE_URI"])
