"""Error pages: every failure gets a clear page and the right status, never a bare 500."""
import logging

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Please log in."),
    403: _l("You are not allowed to do this."),
    404: _l("There is nothing here. The link may be wrong, or the page was removed."),
    405: _l("This page does not accept that kind of request."),
    409: _l("This conflicts with the current state."),
    410: _l("This link has expired."),
    413: _l("What you sent is too large."),
    422: _l("Some fields need attention."),
    429: _l("Too many requests. Please wait a little and try again."),
    500: _l("Something went wrong on our side. Nothing you entered was lost; please try again."),
}


def register(app: Flask) -> None:
    """Install the handlers."""

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return render_template("public/message.html", title=_l("Form expired"),
                               message=_l("The form was missing its security token or it expired. "
                                          "Go back, reload the page and submit again.")), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = exc.code or 500
        return render_template("public/message.html", title=f"{code} {exc.name}",
                               message=MESSAGES.get(code, exc.description)), code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        from .extensions import db

        db.session.rollback()
        return render_template("public/message.html", title=_l("Error"), message=MESSAGES[500]), 500
