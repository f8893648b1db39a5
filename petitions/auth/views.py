"""Organizer registration (confirmed by e-mail), login and logout."""
from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from petitions.crypto import email_hash
from petitions.extensions import db, login_manager
from petitions.ratelimit import limiter
from petitions.security import safe_next
from petitions.links import TokenError
from petitions.auth.forms import FinishRegistrationForm, LoginForm, LogoutForm, RegisterForm
from petitions.auth.models import User
from petitions.auth.services import EmailTaken, WeakPassword, authenticate, register_user, registration_link, request_registration

bp = Blueprint("auth", __name__, url_prefix="/auth")


@login_manager.user_loader
def _load_user(user_id: str):
    # Cookies carry "<id>:<session token>"; a rotated token (logout, new login, new password) ends them.
    uid, _sep, token = user_id.partition(":")
    if not uid.isdigit() or not token:
        return None
    user = db.session.get(User, int(uid))
    return user if user is not None and user.has_session_token(token) else None


@bp.app_template_global("logout_form")
def _logout_form() -> LogoutForm:
    # A function, not a context value: templates rendered outside a request (PDF, mail) never call it.
    # formdata=None: the layout's button never reads the request, so an oversized body cannot break the page.
    return LogoutForm(formdata=None)


def _registration_open():
    if not current_app.config["REGISTRATION_OPEN"]:
        abort(404)


def _register_limit():
    return current_app.config["REGISTER_RATE_LIMIT"]


def _register_address_key() -> str:
    # Per address too: rotating client addresses must not turn registration into a mail bomb for one inbox.
    return "register:" + email_hash(request.form.get("email", ""))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
@limiter.limit(_register_limit, methods=["POST"], key_func=_register_address_key)
def register():
    """Mail a link that finishes registration; answer the same whether the address has an account."""
    _registration_open()
    form = RegisterForm()
    if form.validate_on_submit():
        request_registration(form.email.data, request.args.get("next"))
        db.session.commit()
        return render_template("auth/register_sent.html", email=form.email.data.strip())
    return render_template("auth/register.html", form=form, **_next_context()), 422 if form.errors else 200


def _next_context() -> dict:
    """Return the validated `next` of this request and whether it leads to an invitation."""
    next_path = safe_next(request.args.get("next"), "")
    invitations = url_for("members.accept_invitation", token="t")[:-1]
    return {"next_path": next_path, "invitation_next": next_path.startswith(invitations)}


@bp.route("/register/<token>", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def finish_registration(token: str):
    """Create the account for the address the link was sent to, and log it in."""
    _registration_open()
    try:
        email, next_path = registration_link(token)
    except TokenError as exc:
        return render_template("public/message.html", title=_("This link does not work"),
                               message=str(exc)), 410 if exc.expired else 400
    form = FinishRegistrationForm(account_email=email)
    if form.validate_on_submit():
        try:
            user = register_user(form.name.data, email, form.password.data)
        except EmailTaken:
            db.session.rollback()
            return render_template("public/message.html", title=_("This account exists"),
                                   message=_("This address already has an account. Log in instead.")), 409
        except WeakPassword as exc:
            form.password.errors.append(str(exc))
        else:
            _start_session(user, remember=False)
            db.session.commit()
            # An invitation that sent the person to registration is where the new account continues.
            return redirect(next_path or url_for("organizer.dashboard"), code=303)
    return render_template("auth/register_finish.html", form=form, email=email), 422 if form.errors else 200


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Log an organizer in."""
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            _start_session(user, remember=form.remember.data)
            db.session.commit()
            return redirect(safe_next(request.args.get("next"), url_for("organizer.dashboard")), code=303)
        form.password.errors.append(_("Wrong e-mail or password."))
    status = 401 if request.method == "POST" and form.password.errors else 422 if form.errors else 200
    return render_template("auth/login.html", form=form, **_next_context()), status


def _clear_session() -> None:
    # Flask-WTF caches the token in g too; without this the next form would carry the dropped one.
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def _start_session(user: User, remember: bool) -> None:
    # A new session: nothing planted before login (session content, CSRF token, old cookies) survives it.
    _clear_session()
    user.rotate_session_token()  # also a new remember cookie: a stolen one dies at the next login
    login_user(user, remember=remember)


@bp.post("/logout")
def logout():
    """Log out everywhere this session's cookies went."""
    if LogoutForm().validate_on_submit() and current_user.is_authenticated:
        current_user.rotate_session_token()
        db.session.commit()
        logout_user()
        _clear_session()
    return redirect(url_for("public.index"), code=303)
