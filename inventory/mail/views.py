"""The outbox page: what was queued, sent and failed, a button to resend a failed e-mail, and
(for admins) one that sends a test e-mail to check the mail settings."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.roles import ADMINS, MANAGERS, roles_required
from ..errors import DomainError
from ..extensions import db
from ..forms import ButtonForm
from .forms import TestMailForm
from ..timeutil import utcnow
from . import services
from .models import FAILED, QUEUED, SENDING, SENT, OutboxMessage

bp = Blueprint("mail", __name__)
STATUSES = (QUEUED, FAILED, SENT)
PAGE = 100


@bp.route("/outbox")
@roles_required(MANAGERS)
def outbox():
    status = request.args.get("status") or QUEUED
    if status not in STATUSES:
        abort(404)
    shown = (QUEUED, SENDING) if status == QUEUED else (status,)
    order = OutboxMessage.id.desc() if status == SENT else OutboxMessage.id
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status.in_(shown)).order_by(order).limit(PAGE)).all()
    counts = dict(db.session.execute(
        select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(OutboxMessage.status)).all())
    counts[QUEUED] = counts.get(QUEUED, 0) + counts.pop(SENDING, 0)
    test_form = TestMailForm(to=current_user.email) if current_user.role in ADMINS else None
    return render_template("mail/outbox.html", messages=messages, status=status, statuses=STATUSES, counts=counts,
                           button_form=ButtonForm(), page_size=PAGE, max_attempts=services.MAX_ATTEMPTS,
                           test_form=test_form)


@bp.route("/outbox/test", methods=["POST"])
@roles_required(ADMINS)
def send_test():
    form = TestMailForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(f"Test e-mail not sent: {errors[0]}", "error")
        return redirect(url_for("mail.outbox"))
    try:
        services.send_test(current_app.config, form.to.data.strip(), current_user.email)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(f"Test e-mail sent to {form.to.data.strip()}: the mail server accepted it. "
              "If it does not arrive, look in the spam folder and at the server's logs.", "success")
    return redirect(url_for("mail.outbox"))


@bp.route("/outbox/<int:message_id>/resend", methods=["POST"])
@roles_required(MANAGERS)
def resend(message_id):
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.resend(db.session, message_id, utcnow())
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash("Queued again: it goes out with the next send-mail run.", "success")
    return redirect(url_for("mail.outbox", status=FAILED))
