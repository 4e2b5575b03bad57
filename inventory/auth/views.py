"""Login, logout, the profile page (password, e-mail choices, API tokens) and the admin's user pages."""
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from ..budgets import services as teams
from ..budgets.team_views import team_choices, teams_by_user
from ..core.security import is_local_path
from ..database import transaction
from ..errors import DomainError
from ..extensions import db
from ..forms import ButtonForm, put_next_to_its_box
from ..mail import preferences
from ..mail.forms import preferences_form
from . import services, sessions
from .forms import ChangePasswordForm, LoginForm, NewUserForm, SetPasswordForm, TokenForm, UserForm
from .models import ApiToken, User
from .roles import ADMINS, EVERYONE, public, roles_required

bp = Blueprint("auth", __name__)


def _safe_next(target):
    """Only follow same-site relative redirects after login."""
    if is_local_path(target):
        return target
    return url_for("core.home")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        config = current_app.config
        try:
            user = services.authenticate(
                db.session, form.email.data, form.password.data, request.remote_addr,
                max_per_pair=config["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
                max_per_address=config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
                slow_after=config["LOGIN_SLOW_AFTER_FAILURES"], slow_seconds=config["LOGIN_SLOW_SECONDS"],
                window=config["LOGIN_FAILURE_WINDOW"],
            )
        except DomainError as error:
            flash(error.message, "error")
            status = error.status
        else:
            session.clear()  # a fresh session on login: no fixation
            session.permanent = True
            session["sid"] = sessions.start(db.session, user, user_agent=request.user_agent.string,
                                            address=request.remote_addr or "",
                                            lifetime=config["PERMANENT_SESSION_LIFETIME"])
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@roles_required(EVERYONE)
def logout():
    if ButtonForm().validate_on_submit():
        current = g.get("user_session")
        if current is not None:
            sessions.end(db.session, current_user, current.id)
        logout_user()
        session.clear()
        flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


def _current_session_id():
    current = g.get("user_session")
    return current.id if current is not None else None


@bp.route("/profile", methods=["GET", "POST"])
@roles_required(EVERYONE)
def profile():
    password_form = ChangePasswordForm(prefix="pw")
    token_form = TokenForm(prefix="token")
    new_token = None
    status = 200
    if request.method == "POST" and "pw-password" in request.form and password_form.validate_on_submit():
        try:
            ended = services.change_own_password(db.session, current_user, password_form.current_password.data,
                                                 password_form.password.data, keep_session=_current_session_id())
        except DomainError as error:
            password_form.current_password.errors = [error.message]
            status = error.status
        else:
            flash("Your password is changed." + (f" Signed out on {_devices(ended)}." if ended else ""),
                  "success")
            return redirect(url_for("auth.profile"))
    elif request.method == "POST" and "pw-password" in request.form:
        status = 400
    elif request.method == "POST" and "token-label" in request.form and token_form.validate_on_submit():
        _row, new_token = services.create_token(db.session, current_user, token_form.label.data)
        flash("Token created. Copy it now: it is shown only once.", "success")
    kinds = preferences.kinds_for(current_user)
    saving_mail = request.method == "POST" and "mail-save" in request.form
    mail_form = preferences_form(kinds, data=preferences.choices(db.session, current_user),
                                 **({} if saving_mail else {"formdata": None}))
    if saving_mail and mail_form.validate_on_submit():
        preferences.save(db.session, current_user, {kind.key: mail_form[kind.key].data for kind in kinds})
        flash("Your e-mail choices are saved.", "success")
        return redirect(url_for("auth.profile"))
    elif saving_mail:
        status = 400
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc())
    ).all()
    live = sessions.active(db.session, current_user, lifetime=current_app.config["PERMANENT_SESSION_LIFETIME"])
    return render_template("auth/profile.html", password_form=password_form, token_form=token_form,
                           tokens=tokens, new_token=new_token, button_form=ButtonForm(), mail_form=mail_form,
                           mail_kinds=kinds, mail_ready=bool(current_app.config.get("MAIL_SERVER")
                                                             and current_app.config.get("MAIL_FROM")),
                           sessions=live, current_session_id=_current_session_id(),
                           device=sessions.device), status


def _devices(count):
    return "1 other device" if count == 1 else f"{count} other devices"


@bp.route("/profile/sessions/<int:session_id>/end", methods=["POST"])
@roles_required(EVERYONE)
def end_session(session_id):
    """*Sign out* one of my sessions. Signing out the one in hand is logging out."""
    if ButtonForm().validate_on_submit():
        try:
            sessions.end(db.session, current_user, session_id)
        except DomainError as error:
            flash(error.message, "error")
        else:
            if session_id == _current_session_id():
                logout_user()
                session.clear()
                flash("You are logged out.", "info")
                return redirect(url_for("auth.login"))
            flash("That device is signed out.", "success")
    return redirect(url_for("auth.profile") + "#sessions")


@bp.route("/profile/sessions/end-others", methods=["POST"])
@roles_required(EVERYONE)
def end_other_sessions():
    if ButtonForm().validate_on_submit():
        ended = sessions.sign_out_everywhere(db.session, current_user, keep=_current_session_id())
        flash(f"Signed out on {_devices(ended)}." if ended else "No other device was signed in.", "success")
    return redirect(url_for("auth.profile") + "#sessions")


@bp.route("/profile/tokens/<int:token_id>/revoke", methods=["POST"])
@roles_required(EVERYONE)
def revoke_token(token_id):
    if ButtonForm().validate_on_submit():
        try:
            services.revoke_token(db.session, current_user, token_id)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash("Token revoked; it no longer works.", "success")
    return redirect(url_for("auth.profile"))


@bp.route("/admin/users")
@roles_required(ADMINS)
def users():
    rows = db.session.scalars(select(User).order_by(User.active.desc(), User.role, User.email)).all()
    counts = sessions.active_counts(db.session, [user.id for user in rows],
                                    lifetime=current_app.config["PERMANENT_SESSION_LIFETIME"])
    return render_template("auth/users.html", users=rows, session_counts=counts, team_names=teams_by_user(rows))


@bp.route("/admin/users/<int:user_id>/sign-out", methods=["POST"])
@roles_required(ADMINS)
def sign_out_user(user_id):
    """*Sign out everywhere*: every session of the user ends (their API tokens are on their own
    profile page; deactivate the user to stop those too)."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if ButtonForm().validate_on_submit():
        keep = _current_session_id() if user.id == current_user.id else None
        ended = sessions.sign_out_everywhere(db.session, user, keep=keep)
        flash(f"{user.email} is signed out on {ended} device{'s' if ended != 1 else ''}.", "success")
    return redirect(url_for("auth.edit_user", user_id=user_id))


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required(ADMINS)
def new_user():
    form = NewUserForm()
    form.team_id.choices = team_choices()
    if form.validate_on_submit():
        try:
            with transaction(db.session):  # created inactive and in their team, or not created
                user = services.create_user(db.session, form.email.data, form.role.data, form.password.data,
                                            name=form.name.data)
                if not form.active.data:
                    services.update_user(db.session, user, email=user.email, name=user.name, role=user.role,
                                         active=False)
                teams.set_team(db.session, user, form.team_id.data)
                teams.set_rights(db.session, user, second_approver=form.second_approver.data,
                                 may_exceed_budget=form.may_exceed_budget.data)
        except DomainError as error:
            if not put_next_to_its_box(form, error, []):
                flash(error.message, "error")
        else:
            flash(f"User {user.email} created.", "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=None), 400 if form.errors else 200


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(ADMINS)
def edit_user(user_id):
    user = db.session.get(User, user_id)
    if user is None:
        return render_template("errors/404.html", message=f"No user #{user_id}."), 404
    form = UserForm(obj=user)
    form.team_id.choices = team_choices()
    password_form = SetPasswordForm(prefix="pw")
    if request.method == "POST" and "pw-password" not in request.form and form.validate_on_submit():
        if user.id == current_user.id and (not form.active.data or form.role.data != "admin"):
            flash("You cannot deactivate yourself or take away your own admin role.", "error")
        else:
            try:
                with transaction(db.session):  # the user and their team are saved together, or not at all
                    services.update_user(db.session, user, email=form.email.data, name=form.name.data,
                                         role=form.role.data, active=form.active.data)
                    teams.set_team(db.session, user, form.team_id.data)
                    teams.set_rights(db.session, user, second_approver=form.second_approver.data,
                                     may_exceed_budget=form.may_exceed_budget.data)
            except DomainError as error:
                if not put_next_to_its_box(form, error, []):
                    flash(error.message, "error")
            else:
                flash(f"{user.email} saved.", "success")
                return redirect(url_for("auth.users"))
    elif request.method == "POST" and "pw-password" in request.form and password_form.validate_on_submit():
        keep = _current_session_id() if user.id == current_user.id else None
        services.set_password(db.session, user, password_form.password.data, keep_session=keep)
        flash(f"New password set for {user.email}, and they are signed out everywhere. "
              "Tell them in person, not by e-mail.", "success")
        return redirect(url_for("auth.users"))
    status = 400 if request.method == "POST" else 200
    live = sessions.active(db.session, user, lifetime=current_app.config["PERMANENT_SESSION_LIFETIME"])
    return render_template("auth/user_form.html", form=form, password_form=password_form, user=user,
                           sessions=live, device=sessions.device, button_form=ButtonForm()), status
