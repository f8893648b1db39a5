"""Organizer registration, login and logout."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from ..extensions import db, limiter, login_manager
from .forms import LoginForm, LogoutForm, RegisterForm
from .models import User
from .services import EmailTaken, register_user

bp = Blueprint("auth", __name__, url_prefix="/auth")


@login_manager.user_loader
def _load_user(user_id: str):
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@bp.app_template_global("logout_form")
def _logout_form() -> LogoutForm:
    # A function, not a context value: templates rendered outside a request (PDF, mail) never call it.
    # formdata=None: the layout's button never reads the request, so an oversized body cannot break the page.
    return LogoutForm(formdata=None)


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create an organizer account."""
    if not current_app.config["REGISTRATION_OPEN"]:
        abort(404)
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = register_user(form.name.data, form.email.data, form.password.data)
        except EmailTaken:
            form.email.errors.append("An account with this e-mail exists. Log in instead.")
        else:
            db.session.commit()
            login_user(user)
            return redirect(url_for("organizer.dashboard"), code=303)
    return render_template("auth/register.html", form=form), 422 if form.errors else 200


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Log an organizer in."""
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.email == form.email.data.strip().lower()))
        if user is not None and user.check_password(form.password.data):
            login_user(user, remember=form.remember.data)
            target = request.args.get("next", "")
            # Only local paths: an open redirect would let phishing links borrow our name. Browsers drop tabs
            # and newlines from a Location, so "/\t/evil.example" would become "//evil.example".
            if (not target.startswith("/") or target.startswith("//") or "\\" in target
                    or any(c <= " " or c == "\x7f" for c in target)):
                target = url_for("organizer.dashboard")
            return redirect(target, code=303)
        form.password.errors.append("Wrong e-mail or password.")
    status = 401 if request.method == "POST" and form.password.errors else 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Log out."""
    if LogoutForm().validate_on_submit() and current_user.is_authenticated:
        logout_user()
    return redirect(url_for("public.index"), code=303)
