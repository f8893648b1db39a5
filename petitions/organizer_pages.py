"""What every organizer page shares: a blueprint behind the login, and the POST button that acts and commits once."""
from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import SubmitField

from petitions.appeals.models import IllegalTransition
from petitions.extensions import db


class ActionForm(FlaskForm):
    """A bare form whose only job is to carry the CSRF token of a POST button."""

    submit = SubmitField()


def blueprint(name: str, import_name: str, url_prefix: str) -> Blueprint:
    """Return a blueprint whose every page asks for a logged-in organizer."""
    bp = Blueprint(name, import_name, url_prefix=url_prefix)
    bp.before_request(login_required(lambda: None))
    bp.behind_login = True  # a <lang> in its routes names content, never the organizer's interface language
    return bp


def require_button() -> None:
    """Refuse a POST button whose CSRF token is missing or wrong (400)."""
    if not ActionForm().validate_on_submit():
        abort(400)


def act(perform: Callable, success, back: str, *, done: str | None = None,
        refused: tuple[type[Exception], ...] = (IllegalTransition,)):
    """Run a POST button: CSRF check, the action, one commit and a message; a refusal rolls back and says why.

    `success` is the message or a function of the action's result; the answer goes to `done` (else `back`) after
    success and to `back` after a refusal. An action that finds nothing to act on raises LookupError: 404.
    """
    require_button()
    try:
        result = perform()
    except LookupError as exc:
        if type(exc) is not LookupError:  # a KeyError or IndexError is a bug, not a missing object
            raise
        db.session.rollback()
        abort(404)
    except refused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(back, code=303)
    db.session.commit()
    flash(success(result) if callable(success) else success, "success")
    return redirect(done or back, code=303)
