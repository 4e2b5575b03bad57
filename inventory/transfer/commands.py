"""flask --app inventory import-items FILE [--dry-run] and import-stock FILE --user EMAIL [--dry-run]
[--create-bins]: the import pages' rules from the command line. Exit 1 on any bad row (listed with
its line number), and then nothing is written."""
import click

from ..errors import DomainError
from ..extensions import db
from . import services
from .report import ImportRefused


def _echo_report(report, dry_run):
    for bad in report.bad_rows:
        click.echo(f"line {bad.line}: {bad.key + ': ' if bad.key else ''}{bad.reason}", err=True)
    if dry_run or not report.ok:
        for change in report.changes:
            click.echo(f"line {change.line}: {change.action} {change.key}: {change.describe()}")
    if not report.ok:
        raise click.ClickException(f"{len(report.bad_rows)} bad row(s); nothing was imported.")
    verb = "Would import" if dry_run else "Imported"
    click.echo(f"{verb} {report.rows} row(s): {report.summary()}.")


def _read(file):
    try:
        return services.read_upload(file.read())
    except DomainError as error:
        raise click.ClickException(error.message) from None


def _run(call, dry_run):
    from ..commands import _ready

    _ready()
    try:
        report = call()
    except ImportRefused as refused:
        report = refused.report
    except DomainError as error:
        raise click.ClickException(error.message) from None
    _echo_report(report, dry_run)


@click.command("import-items")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check the file and say what would change; write nothing.")
def import_items(file, dry_run):
    """Create and update items (products, sizes) from a CSV file; all rows or none ('-' reads stdin)."""
    text = _read(file)
    _run(lambda: services.import_items(db.session, text, dry_run=dry_run), dry_run)


@click.command("import-stock")
@click.argument("file", type=click.File("rb"))
@click.option("--user", "email", required=True, help="Who books the stock (the ledger records it): an e-mail.")
@click.option("--dry-run", is_flag=True, help="Check the file and say what would be booked; write nothing.")
@click.option("--create-bins", is_flag=True, help="Create bins that do not exist yet.")
def import_stock(file, email, dry_run, create_bins):
    """Book what each bin holds from a CSV file (sku, bin, quantity); all rows or none."""
    from ..auth import services as auth

    text = _read(file)
    try:
        user = auth.user_by_email(db.session, email)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    _run(lambda: services.import_stock(db.session, text, user, dry_run=dry_run, create_bins=create_bins), dry_run)
