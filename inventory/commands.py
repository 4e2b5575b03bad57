"""Command line: flask --app inventory <command>. Each command parses its arguments, calls
one rule, and exits non-zero with a clear message when the rule refuses."""
import os
import sqlite3

import click
from flask import current_app
from sqlalchemy import func, select

from .auth import services as auth
from .auth.models import ROLES
from .core.schema import SchemaOutOfDate, ensure_schema
from .errors import DomainError
from .extensions import db


def _ready():
    try:
        ensure_schema(current_app)
    except SchemaOutOfDate as error:
        raise click.ClickException(str(error)) from None


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default="")
def create_user(email, role, password, name):
    """Create a user with a role (rep, staff, manager, admin)."""
    _ready()
    try:
        user = auth.create_user(db.session, email, role, password, name=name)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Created {user.email} ({user.role}).")


@click.command("create-token")
@click.argument("email")
@click.option("--label", default="command line")
def create_token(email, label):
    """Print a new API token for a user (shown once; only its hash is stored)."""
    _ready()
    try:
        user = auth.user_by_email(db.session, email)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    _row, token = auth.create_token(db.session, user, label)
    click.echo(token)


@click.command("check")
def check():
    """Recompute every stock level from the ledger; exit 1 listing any drift."""
    from .stock.services import check_ledger

    _ready()
    from .catalog.models import Item
    from .forecast import stored

    drifts = check_ledger(db.session)
    failed = bool(drifts)
    if not drifts:
        click.echo("OK: every stock level equals the sum of the ledger.")
    else:
        click.echo(f"{len(drifts)} stock level(s) differ from the ledger:", err=True)
        for drift in drifts:
            click.echo(f"  {drift.sku} in {drift.bin_code}: ledger says {drift.ledger}, "
                       f"stock level says {drift.cached}", err=True)
    differ = stored.drift(db.session)
    if differ is None:
        click.echo("The reorder flags are from another day: the next page or send-alerts projects them again.")
    elif not differ:
        click.echo("OK: the stored reorder flags are what a fresh projection finds.")
    else:
        failed = True
        skus = sorted(db.session.scalars(select(Item.sku).where(Item.id.in_(differ))))
        click.echo(f"The stored reorder flags of {len(skus)} item(s) differ from a fresh projection: "
                   f"{', '.join(skus[:20])}{' ...' if len(skus) > 20 else ''}. "
                   "Run `flask --app inventory forecast-refresh`.", err=True)
    if failed:
        raise SystemExit(1)


@click.command("forecast-refresh")
def forecast_refresh():
    """Project every item again and store its reorder flags (the pages do this on the first
    read of a day; rules keep the items they change current)."""
    from .forecast import stored

    _ready()
    count = stored.refresh(db.session)
    click.echo(f"Reorder flags projected again: {count} flag{'s' if count != 1 else ''}.")


@click.command("seed-demo")
@click.option("--scale", type=click.Choice(["small", "large"]), default="small", show_default=True,
              help="small: a believable demo; large: a real stockroom's size (5,000 SKUs, 200,000 ledger rows) "
                   "for benchmarks.")
def seed_demo(scale):
    """Fill an empty database with a demo stockroom and print the demo logins."""
    from .auth.models import User
    from .demo import demo_logins, seed

    _ready()
    if db.session.scalar(select(User.id).limit(1)) is not None:
        if scale == "small" and _has_the_demo(User):  # a second run of scripts/demo.sh
            click.echo("Demo data already there; nothing changed. Log in with (passwords as seeded):")
            _echo_logins(demo_logins())
            return
        raise click.ClickException("The database already has data; seed-demo only fills an empty one.")
    if scale == "large":
        from .demo_large import seed_large

        click.echo("Building a large stockroom (takes a minute or so)...")
        logins = seed_large(db.session, scale=1.0, echo=click.echo)
        _refresh_flags()
        shown = {}
        for email, role, password in logins:
            shown.setdefault(role, []).append((email, password))
        click.echo("Large demo stockroom ready. Log in with (every user of a role has its password):")
        for role, users in shown.items():
            click.echo(f"  {role:<8} {users[0][0]:<28} password: {users[0][1]}"
                       + (f"  (and {len(users) - 1} more: {role}2@example.com ...)" if len(users) > 1 else ""))
        return
    logins = seed(db.session)
    _refresh_flags()
    click.echo("Demo stockroom ready. Log in with:")
    _echo_logins(logins)


def _echo_logins(logins):
    for email, role, password in logins:
        click.echo(f"  {role:<8} {email:<28} password: {password}")


def _has_the_demo(User):
    """Every demo login is there: the database is the small demo's (perhaps used since)."""
    from .demo import demo_logins

    emails = [email for email, _role, _password in demo_logins()]
    return db.session.scalar(select(func.count(User.id)).where(User.email.in_(emails))) == len(emails)


def _refresh_flags():
    from .forecast import stored

    stored.refresh(db.session)  # a seed writes rows in bulk: project every item once


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def backup(path):
    """Write a consistent copy of the SQLite database to PATH while the app runs."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            "backup copies the embedded SQLite database. For PostgreSQL use pg_dump, e.g.\n"
            "  pg_dump --format=custom --file=inventory.dump \"$DATABASE_URL\""
        )
    if os.path.exists(path):
        raise click.ClickException(f"{path} already exists; choose a new file name.")
    source = sqlite3.connect(url.database)
    target = sqlite3.connect(path)
    try:
        with target:
            source.backup(target)  # SQLite's online backup API: consistent while others write
    finally:
        target.close()
        source.close()
    click.echo(f"Backed up {url.database} to {path}.")


def _send_outbox(now):
    """Send the due e-mails (the mail settings checked first); exit 1 when some could not go."""
    from .mail.services import chat_filter, send_pending

    result = send_pending(db.session, current_app.config, now)
    if result.sent:
        click.echo(f"Sent {result.sent} e-mail(s).")
    if result.retrying or result.failed:
        from .mail.models import OutboxMessage

        error = db.session.scalar(select(OutboxMessage.last_error)
                                  .where(OutboxMessage.last_error != "", chat_filter(False))
                                  .order_by(OutboxMessage.id.desc()).limit(1))
        click.echo(f"{result.retrying} e-mail(s) could not be sent and stay queued for a retry, "
                   f"{result.failed} gave up after too many attempts. Last error: {error}", err=True)
        raise SystemExit(1)


@click.command("send-alerts")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Forecast as of this date (default: today).")
def send_alerts(today):
    """Queue one reorder digest (new, worse and resolved flags) and the reminders of returnables
    due back tomorrow or overdue, then send the outbox. For cron, once or twice a day."""
    from datetime import date

    from .chat.digest import digest_channels, queue_to_channels
    from .mail.alerts import queue_reorder_digest
    from .mail.services import MailNotConfigured, base_url, check_settings
    from .requests.emails import queue_return_reminders
    from .timeutil import utcnow

    _ready()
    now = utcnow()
    today = today.date() if today else date.today()
    # The digest goes to the chat channels that take it, and by e-mail when mail is set up: chat
    # alone needs no mail settings.
    chat = bool(digest_channels(db.session))
    try:
        base_url(current_app.config)
        check_settings(current_app.config)
        email = True
    except MailNotConfigured as error:
        if not chat or not current_app.config.get("BASE_URL"):
            raise click.ClickException(error.message) from None
        email = False
        click.echo(f"{error.message} Only the chat channels get the digest.", err=True)
    if email:
        reminders = queue_return_reminders(db.session, today)
        if reminders:
            click.echo(f"Queued {reminders} return reminder{'s' if reminders != 1 else ''}.")
    problem = None
    queued = []

    def to_chat(*digest_parts):
        queued.append(queue_to_channels(*digest_parts))
        return queued[-1]

    try:
        digest = queue_reorder_digest(db.session, current_app.config, today, now, email=email,
                                      also=to_chat if chat else None)
    except MailNotConfigured as error:
        problem = error
    else:
        if digest:
            click.echo(f"Queued: {digest.subject}")
        if queued and queued[0]:
            click.echo(f"Queued the digest for {queued[0]} chat channel{'s' if queued[0] != 1 else ''}.")
        if not digest and not (queued and queued[0]):
            click.echo("Nothing new to alert.")
    # Now, not the run's start: the digest was queued after it.
    chat_ok = _send_chat(utcnow()) if chat else True
    if email:
        _send_outbox(utcnow())
    if not chat_ok:
        raise SystemExit(1)
    if problem is not None:
        raise click.ClickException(problem.message)


def _send_chat(now):
    """Post the due chat messages (no mail settings needed); False when some could not go."""
    from .chat.sender import send_chat_pending
    from .mail.models import OutboxMessage
    from .mail.services import chat_filter

    result = send_chat_pending(db.session, current_app.config, now)
    if result.sent:
        click.echo(f"Posted {result.sent} chat message(s).")
    if not (result.retrying or result.failed):
        return True
    error = db.session.scalar(select(OutboxMessage.last_error)
                              .where(OutboxMessage.last_error != "", chat_filter(True))
                              .order_by(OutboxMessage.id.desc()).limit(1))
    click.echo(f"{result.retrying} chat message(s) could not be posted and stay queued for a retry, "
               f"{result.failed} failed. Last error: {error}", err=True)
    return False


@click.command("send-outbox")
def send_outbox():
    """Send the e-mails and chat messages waiting in the outbox (retries are due by their
    back-off). For cron. Chat needs no mail settings: without them, chat is still posted, and the
    command fails only when e-mails are waiting (or no chat channel is set up either)."""
    from .chat.models import ChatChannel
    from .mail.models import QUEUED, OutboxMessage
    from .mail.services import MailNotConfigured, chat_filter, check_settings
    from .timeutil import utcnow

    _ready()
    chat_ok = _send_chat(utcnow())
    try:
        check_settings(current_app.config)
    except MailNotConfigured as error:
        emails_waiting = db.session.scalar(select(OutboxMessage.id).where(
            chat_filter(False), OutboxMessage.status == QUEUED).limit(1)) is not None
        if emails_waiting or db.session.scalar(select(ChatChannel.id).limit(1)) is None:
            raise click.ClickException(error.message) from None
    else:
        try:
            _send_outbox(utcnow())
        except MailNotConfigured as error:
            raise click.ClickException(error.message) from None
    if not chat_ok:
        raise SystemExit(1)


@click.group("chat-channel")
def chat_channel():
    """Chat channels (Slack, Microsoft Teams, a generic signed webhook): add, list, test, remove."""


@chat_channel.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(["slack", "teams", "webhook"]), required=True)
@click.option("--topics", default="digest", show_default=True,
              help="Comma-separated: digest, rush, approvals, returns_overdue, deliveries_overdue.")
@click.option("--event-id", type=int, default=None, help="Only about this event.")
@click.option("--team-id", type=int, default=None, help="Only about this team.")
def chat_channel_add(name, kind, topics, event_id, team_id):
    """Add a channel. The webhook URL is asked for (not shown, not kept in the shell's history) and
    stored encrypted; a generic webhook's signing key is printed once."""
    from .chat import services as chat

    _ready()
    url = click.prompt("Webhook URL", hide_input=True)
    try:
        channel = chat.create_channel(db.session, current_app.config, name=name, kind=kind, url=url, topics=topics,
                                      event_id=event_id, team_id=team_id)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Added {channel.name} ({channel.kind}, {channel.url_hint}): {channel.topics}.")
    if channel.kind == "webhook":
        click.echo(f"Signing key (give it to the receiver; shown only now): {chat.channel_secret(current_app.config, channel)}")


@chat_channel.command("list")
def chat_channel_list():
    """The channels, their kind, address (host and last characters only), topics and scope."""
    from .chat.models import ChatChannel

    _ready()
    channels = db.session.scalars(select(ChatChannel).order_by(ChatChannel.name)).all()
    if not channels:
        click.echo("No chat channels.")
    for channel in channels:
        scope = "".join(f", only {what} #{value}" for what, value in (("event", channel.event_id),
                                                                     ("team", channel.team_id)) if value)
        click.echo(f"{channel.name}: {channel.kind}, {channel.url_hint}, {channel.topics or 'no topics'}{scope}"
                   f"{'' if channel.active else ' (inactive)'}")


def _channel_named(name):
    from .chat.models import ChatChannel

    channel = db.session.scalar(select(ChatChannel).where(ChatChannel.name == name))
    if channel is None:
        raise click.ClickException(f"No chat channel is called {name!r}: `flask chat-channel list` shows them.")
    return channel


@chat_channel.command("test")
@click.argument("name")
def chat_channel_test(name):
    """Post a test message to the channel now (not through the outbox) and show the answer."""
    from .chat import services as chat

    _ready()
    try:
        click.echo(chat.send_test(current_app.config, _channel_named(name), requested_by="the command line"))
    except DomainError as error:
        raise click.ClickException(error.message) from None


@chat_channel.command("remove")
@click.argument("name")
def chat_channel_remove(name):
    """Remove the channel; its messages not yet posted fail, saying so."""
    from .chat import services as chat

    _ready()
    chat.delete_channel(db.session, _channel_named(name).id)
    click.echo(f"Removed {name}.")


def init_app(app):
    from .transfer.commands import import_items, import_stock

    for command in (create_user, create_token, check, seed_demo, backup, send_alerts, send_outbox, forecast_refresh,
                    import_items, import_stock, chat_channel):
        app.cli.add_command(command)
    app.cli.add_command(send_outbox, name="send-mail")  # its old name, still in crontabs
