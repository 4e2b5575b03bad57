"""Counting SQL statements: for the query-budget tests and the benchmark, never on by default.

`count_queries(engine)` counts the statements sent while its block runs. With
BENCH_COUNT_QUERIES=1 in the environment (or COUNT_QUERIES in the config), every response also
says how many statements it took in an `X-Query-Count` header, which bench/run.py reads.
"""
import os
from contextlib import contextmanager

from flask import g, has_request_context
from sqlalchemy import event


class QueryCounter:
    def __init__(self):
        self.count = 0
        self.statements = []

    def __call__(self, _connection, _cursor, statement, _parameters, _context, _executemany):
        self.count += 1
        self.statements.append(statement)


@contextmanager
def count_queries(engine):
    """with count_queries(db.engine) as counted: ...; counted.count is the number of statements."""
    counter = QueryCounter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)


def _count_in_request(_connection, _cursor, _statement, _parameters, _context, _executemany):
    if has_request_context():
        g.query_count = g.get("query_count", 0) + 1


def init_app(app):
    if not (os.environ.get("BENCH_COUNT_QUERIES") == "1" or app.config.get("COUNT_QUERIES")):
        return
    from .extensions import db

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", _count_in_request)

    @app.after_request
    def _query_count_header(response):
        response.headers["X-Query-Count"] = str(g.get("query_count", 0))
        return response
