"""The health check's probe: does the database answer, and does it take writes?

It runs on a connection of its own in a helper thread, so that `/healthz` answers within its
timeout even when the database hangs (packets dropped: the probe's connection gives up on its
own a few seconds later, see database.engine_options)."""
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as ProbeTimeout

from sqlalchemy import text

from ..database import UNWRITABLE, failure_kind

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz")
# A write that failed for want of space or write access, per database, remembered for the health
# check (a probe cannot fill the disk to find out): {database: (when, what)}.
_last_unwritable = {}
REMEMBER_FOR = 60  # seconds


def note_failure(engine, kind, error):
    if kind == UNWRITABLE:
        _last_unwritable[str(engine.url)] = (time.monotonic(),
                                             str(getattr(error, "orig", error)).splitlines()[0][:120])


def _probe(engine):
    """None when healthy, else the problem in a few words."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            connection.rollback()
            if connection.dialect.name == "sqlite":
                # Taking the write lock fails on a read-only database file.
                raw = connection.connection.driver_connection
                try:
                    raw.execute("BEGIN IMMEDIATE")
                    raw.execute("ROLLBACK")
                except sqlite3.OperationalError as error:
                    if "locked" in str(error).lower():
                        return None  # busy with a long write: answering, and writable
                    return f"not writable: {error}"
            elif connection.execute(text("SHOW transaction_read_only")).scalar() == "on":
                return "not writable: the server is read-only"
            connection.rollback()
    except Exception as error:  # noqa: BLE001 - every failure is an unhealthy database
        kind = failure_kind(error)
        if kind == UNWRITABLE:
            return f"not writable: {str(getattr(error, 'orig', error)).splitlines()[0][:120]}"
        return "unreachable"
    return None


def problem(engine, timeout=3):
    try:
        found = _pool.submit(_probe, engine).result(timeout=timeout)
    except ProbeTimeout:
        return f"unreachable (no answer within {timeout} s)"
    at, what = _last_unwritable.get(str(engine.url), (None, ""))
    if found is None and at is not None and time.monotonic() - at < REMEMBER_FOR:
        return f"not writable: a write failed {int(time.monotonic() - at)} s ago ({what})"
    return found
