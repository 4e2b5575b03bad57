"""The admins' import page for teams and users: upload or paste, see the dry run, confirm; and
their CSV downloads. The same flow as the items import (views.py), on the same blueprint."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, flash, redirect, render_template, url_for
from flask_login import current_user

from ..auth.roles import ADMINS, roles_required
from ..errors import DomainError
from ..extensions import csrf, db
from . import people, services
from .csvfile import MAX_IMPORT_BYTES, write_csv
from .forms import ConfirmForm, ImportForm
from .report import ImportRefused
from .teams import teams_csv
from .users import MAX_NEW_USERS, users_csv
from .views import SHOWN, _read_form, bp

TITLES = {"teams": "Import teams", "users": "Import users"}
TEMPLATES = {
    "teams": (("name", "budget", "approver", "auto_approve_up_to", "second_approval_above"),
              [("Field sales North", "2000.00", "manager@example.com", "150.00", "1000.00"),
               ("Inside sales", "800.00", "", "", "")]),
    "users": (("email", "name", "role", "team", "active", "password"),
              [("dana@example.com", "Dana Rep", "rep", "Field sales North", "yes", "tell-them-in-person-1"),
               ("sam@example.com", "Sam Manager", "manager", "", "yes", "another-long-one-2")]),
}


def _page(status: int = 200, **forms: Any) -> tuple[str, int]:
    forms.setdefault("teams_form", ImportForm(prefix="teams", formdata=None))
    forms.setdefault("users_form", ImportForm(prefix="users", formdata=None))
    return render_template("transfer/people.html", limit_mb=MAX_IMPORT_BYTES // (1024 * 1024),
                           max_new_users=MAX_NEW_USERS, **forms), status


def _csv(body: str, name: str) -> Response:
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{date.today().isoformat()}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _private(page: tuple[str, int]) -> Response:
    """A page that may carry a file of passwords (the dry run's hidden copy): never cached."""
    response = Response(page[0], status=page[1])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/transfer/people")
@roles_required(ADMINS)
def people_page() -> Any:
    return _page()


@bp.route("/transfer/template/<any(teams, users):kind>.csv")
@roles_required(ADMINS)
def people_template(kind: str) -> Any:
    header, rows = TEMPLATES[kind]
    return _csv(write_csv(header, rows), f"{kind}-template")


@bp.route("/transfer/export/teams.csv")
@roles_required(ADMINS)
def export_teams() -> Any:
    return _csv(teams_csv(db.session), "teams")  # type: ignore[arg-type]


@bp.route("/transfer/export/users.csv")
@roles_required(ADMINS)
def export_users() -> Any:
    return _csv(users_csv(db.session), "users")  # type: ignore[arg-type]


def _run(kind: str, text: str, dry_run: bool) -> Any:
    if kind == "teams":
        return people.import_teams(db.session, text, dry_run=dry_run)
    return people.import_users(db.session, text, current_user._get_current_object(), dry_run=dry_run)


def _too_big() -> Any:
    flash(f"The file is too big: {MAX_IMPORT_BYTES // (1024 * 1024)} MB at most. Split it into smaller files.",
          "error")
    return redirect(url_for("transfer.people_page"))


@csrf.exempt
@bp.route("/transfer/import/<any(teams, users):kind>", methods=["POST"])
@roles_required(ADMINS)
def check_people(kind: str) -> Any:
    """The dry run: what importing the file would create or change, and every bad row."""
    if not _read_form():
        return _too_big()
    form = ImportForm(prefix=kind)
    forms = {f"{kind}_form": form}
    if not form.validate_on_submit():
        flash("Choose a file or paste rows, then check again.", "error")
        return _private(_page(400, **forms))
    upload = form.file.data
    try:
        if upload and upload.filename:
            text, filename = services.read_upload(upload.read(MAX_IMPORT_BYTES + 1)), upload.filename
        elif (form.text.data or "").strip():
            text, filename = form.text.data, "pasted rows"
        else:
            flash("Choose a file or paste rows, then check again.", "error")
            return _private(_page(400, **forms))
        report = _run(kind, text, dry_run=True)
    except DomainError as error:
        flash(error.message, "error")
        return _private(_page(400, **forms))
    confirm = ConfirmForm(formdata=None, content=services.pack(text), filename=filename, create_bins="")
    return _private((render_template("transfer/preview.html", kind=kind, title=TITLES[kind], report=report,
                                     filename=filename, confirm_form=confirm, shown=SHOWN, create_bins=False,
                                     confirm_url=url_for("transfer.confirm_people", kind=kind),
                                     back=(url_for("transfer.people_page"), "Import teams and users"),
                                     unchanged="Nothing to change: the teams and users already match this file."),
                     200))


@csrf.exempt
@bp.route("/transfer/import/<any(teams, users):kind>/confirm", methods=["POST"])
@roles_required(ADMINS)
def confirm_people(kind: str) -> Any:
    """Import for real: checked again against the database as it is now; all rows or none."""
    if not _read_form():
        return _too_big()
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("The form had expired; check the file again.", "error")
        return _private(_page(400))
    try:
        report = _run(kind, services.unpack(form.content.data), dry_run=False)
    except ImportRefused as refused:
        flash(refused.message, "error")
        return _private((render_template("transfer/preview.html", kind=kind, title=TITLES[kind],
                                         report=refused.report, filename=form.filename.data, confirm_form=None,
                                         shown=SHOWN, create_bins=False,
                                         back=(url_for("transfer.people_page"), "Import teams and users")), 400))
    except DomainError as error:
        flash(error.message, "error")
        return _private(_page(error.status))
    flash(f"Imported {form.filename.data or 'the file'}: {report.summary()}.", "success")
    return redirect(url_for("teams.index") if kind == "teams" else url_for("auth.users"))
