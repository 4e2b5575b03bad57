"""Bin pages: the list, the label URL page /b/<code>, create, edit, archive."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.roles import EVERYONE, STAFF, can, roles_required
from ..errors import DomainError, NotFound
from ..extensions import db
from ..forms import ButtonForm
from ..pagination import page_arg
from ..requests import loans as loan_rules
from ..stock import queries as stock_queries
from . import services
from .forms import BinEditForm, BinForm
from .models import normalize_code

bp = Blueprint("bins", __name__)


@bp.route("/bins")
@roles_required(EVERYONE)
def index():
    q = request.args.get("q", "").strip()
    zone = request.args.get("zone") or None
    archived = request.args.get("archived") == "1"
    page = services.search_bins(db.session, q=q, zone=zone, page=page_arg(), include_archived=archived,
                                per_page=current_app.config["PAGE_SIZE"])
    return render_template("bins/index.html", page=page, q=q, zone=zone, zones=services.zones(db.session),
                           archived=archived)


@bp.route("/b/<code>")
@roles_required(EVERYONE)
def show(code):
    """The bin's label URL: everything in the bin and what happened to it."""
    try:
        bin = services.get_bin(db.session, code)
    except NotFound:
        return render_template("bins/unknown.html", code=normalize_code(code),
                               can_create=can(current_user, STAFF)), 404
    if bin.code != code:
        return redirect(url_for("bins.show", code=bin.code))
    levels = stock_queries.levels_in_bin(db.session, bin)
    # Returnables in this bin that also have units out: each row says where the others are.
    loans = loan_rules.loans_of_items(db.session, [row.item.id for row in levels if row.item.returnable])
    return render_template("bins/show.html", bin=bin, levels=levels, loans=loans,
                           history=stock_queries.history(db.session, bin=bin), button_form=ButtonForm())


@bp.route("/bins/new", methods=["GET", "POST"])
@roles_required(STAFF)
def new():
    form = BinForm()
    if request.method == "GET" and request.args.get("code"):
        form.code.data = normalize_code(request.args["code"])
    if form.validate_on_submit():
        try:
            bin = services.create_bin(db.session, form.code.data, form.name.data, form.zone.data)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(f"Bin {bin.code} created. Print its label from the bin page.", "success")
            return redirect(url_for("bins.show", code=bin.code))
    status = 400 if request.method == "POST" else 200
    return render_template("bins/form.html", form=form, bin=None, zones=services.zones(db.session)), status


@bp.route("/b/<code>/edit", methods=["GET", "POST"])
@roles_required(STAFF)
def edit(code):
    try:
        bin = services.get_bin(db.session, code)
    except NotFound:
        return render_template("bins/unknown.html", code=normalize_code(code), can_create=True), 404
    form = BinEditForm(obj=bin)
    if form.validate_on_submit():
        services.update_bin(db.session, bin, form.name.data, form.zone.data)
        flash(f"Bin {bin.code} saved.", "success")
        return redirect(url_for("bins.show", code=bin.code))
    status = 400 if request.method == "POST" else 200
    return render_template("bins/form.html", form=form, bin=bin, zones=services.zones(db.session)), status


@bp.route("/b/<code>/archive", methods=["POST"])
@roles_required(STAFF)
def archive(code):
    try:
        bin = services.get_bin(db.session, code)
    except NotFound:
        abort(404)
    restore = request.args.get("restore") == "1"
    if ButtonForm().validate_on_submit():
        try:
            services.set_archived(db.session, bin, archived=not restore)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(f"Bin {bin.code} {'restored' if restore else 'archived'}.", "success")
    return redirect(url_for("bins.show", code=bin.code))
