"""Sessions you can end: logout, a password or role change, deactivation and *Sign out* end a
session wherever its cookie is; login limits that count parallel tries and never lock a user
out; feed links that can be renewed; secrets kept out of access logs."""
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from inventory.auth import services as auth
from inventory.auth import sessions
from inventory.auth.models import LoginAttempt, UserSession
from inventory.core.access_log import redact
from inventory.errors import InvalidInput, LoginRefused, LoginThrottled
from inventory.events import feed
from inventory.extensions import db
from inventory.timeutil import utcnow
from tests.conftest import PASSWORD

PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
LAPTOP = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"


def _log_in(app, user, password=PASSWORD, agent=PHONE):
    """A separate browser (its own cookie jar) logged in as `user`."""
    browser = app.test_client()
    response = browser.post("/login", data={"email": user.email, "password": password},
                            headers={"User-Agent": agent})
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def _copy_of(app, browser):
    """Another browser holding a saved copy of `browser`'s session cookie."""
    copy = app.test_client()
    copy.set_cookie("session", browser.get_cookie("session").value)
    return copy


def _signed_in(browser):
    return browser.get("/catalog").status_code == 200


def test_logging_out_ends_the_session_even_for_a_saved_copy_of_its_cookie(app, make_user):
    user = make_user("rep")
    browser = _log_in(app, user)
    saved = _copy_of(app, browser)
    assert _signed_in(saved)
    browser.post("/logout")
    assert not _signed_in(browser)
    response = saved.get("/catalog")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    # ...and the copy cannot change the password either.
    saved.post("/profile", data={"pw-current_password": PASSWORD, "pw-password": "taken-over-123"})
    assert auth.authenticate(db.session, user.email, PASSWORD, "10.1.1.1").id == user.id


def test_changing_my_password_signs_out_my_other_devices_but_not_this_one(app, make_user):
    user = make_user("staff")
    phone, laptop = _log_in(app, user, agent=PHONE), _log_in(app, user, agent=LAPTOP)
    response = phone.post("/profile", data={"pw-current_password": PASSWORD, "pw-password": "brand-new-pass"},
                          follow_redirects=True)
    assert "Signed out on 1 other device" in response.get_data(as_text=True)
    assert _signed_in(phone) and not _signed_in(laptop)
    # A wrong current password says so next to the box, and changes nothing.
    wrong = phone.post("/profile", data={"pw-current_password": "nope", "pw-password": "another-pass-1"})
    assert wrong.status_code == 400
    assert re.search(r"current password is not right", wrong.get_data(as_text=True))
    assert auth.authenticate(db.session, user.email, "brand-new-pass", "10.1.1.2").id == user.id


@pytest.mark.parametrize("change", ["role", "deactivate", "password", "sign-out"])
def test_an_admins_change_signs_the_user_out_everywhere(app, make_user, change):
    user = make_user("rep")
    phone, laptop = _log_in(app, user, agent=PHONE), _log_in(app, user, agent=LAPTOP)
    admin = _log_in(app, make_user("admin"), agent=LAPTOP)
    page = admin.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Chrome on Android" in page and "Safari on Mac" in page and "Sign out everywhere" in page
    if change == "role":
        response = admin.post(f"/admin/users/{user.id}", data={"email": user.email, "role": "staff", "active": "y"})
    elif change == "deactivate":
        response = admin.post(f"/admin/users/{user.id}", data={"email": user.email, "role": "rep"})
    elif change == "password":
        response = admin.post(f"/admin/users/{user.id}", data={"pw-password": "reset-by-admin"})
    else:
        response = admin.post(f"/admin/users/{user.id}/sign-out", follow_redirects=True)
        assert "signed out on 2 devices" in response.get_data(as_text=True)
    assert response.status_code in (200, 302)
    assert not _signed_in(phone) and not _signed_in(laptop)
    assert _signed_in(admin)
    assert db.session.scalar(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None))) == 0


def test_saving_a_user_without_changing_role_keeps_them_signed_in(app, make_user):
    user = make_user("rep")
    phone = _log_in(app, user)
    admin = _log_in(app, make_user("admin"))
    assert admin.post(f"/admin/users/{user.id}", data={"email": user.email, "name": "Renamed", "role": "rep",
                                                       "active": "y"}).status_code == 302
    assert _signed_in(phone)


def test_the_profile_lists_my_sessions_and_signs_one_out(app, make_user):
    user = make_user("rep")
    phone, laptop = _log_in(app, user, agent=PHONE), _log_in(app, user, agent=LAPTOP)
    page = phone.get("/profile").get_data(as_text=True)
    assert "Chrome on Android" in page and "Safari on Mac" in page and "this device" in page
    laptop_session = db.session.scalar(select(UserSession).where(UserSession.user_agent == LAPTOP))
    response = phone.post(f"/profile/sessions/{laptop_session.id}/end", follow_redirects=True)
    assert "That device is signed out" in response.get_data(as_text=True)
    assert _signed_in(phone) and not _signed_in(laptop)
    # Another user's session is not mine to end.
    other = _log_in(app, make_user("rep"), agent=LAPTOP)
    theirs = db.session.scalar(select(UserSession).where(UserSession.user_id != user.id))
    response = phone.post(f"/profile/sessions/{theirs.id}/end", follow_redirects=True)
    assert "No such session" in response.get_data(as_text=True)
    assert _signed_in(other)


def test_sign_out_all_other_devices_and_signing_out_this_one_logs_out(app, make_user):
    user = make_user("rep")
    phones = [_log_in(app, user) for _ in range(3)]
    response = phones[0].post("/profile/sessions/end-others", follow_redirects=True)
    assert "Signed out on 2 other devices" in response.get_data(as_text=True)
    assert [_signed_in(p) for p in phones] == [True, False, False]
    mine = db.session.scalar(select(UserSession).where(UserSession.ended_at.is_(None)))
    response = phones[0].post(f"/profile/sessions/{mine.id}/end")
    assert response.headers["Location"].startswith("/login")
    assert not _signed_in(phones[0])


def test_a_session_left_idle_past_its_lifetime_ends(app, make_user):
    user = make_user("rep")
    phone = _log_in(app, user)
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(days=15)))
    db.session.commit()
    assert not _signed_in(phone)


def test_last_seen_is_written_at_most_every_few_minutes(app, make_user):
    user = make_user("rep")
    phone = _log_in(app, user)
    an_hour_ago = utcnow() - timedelta(hours=1)
    db.session.execute(update(UserSession).values(last_seen_at=an_hour_ago))
    db.session.commit()
    assert _signed_in(phone)
    db.session.expire_all()
    seen = db.session.scalar(select(UserSession.last_seen_at))
    assert seen > an_hour_ago + timedelta(minutes=50)
    assert _signed_in(phone)
    db.session.expire_all()
    assert db.session.scalar(select(UserSession.last_seen_at)) == seen  # not written again


def test_logging_in_clears_away_the_users_ended_sessions(app, make_user):
    user = make_user("rep")
    for _ in range(3):
        _log_in(app, user).post("/logout")
    _log_in(app, user)
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert len(rows) == 1 and rows[0].ended_at is None


@pytest.mark.parametrize("agent, name", [
    (PHONE, "Chrome on Android"), (LAPTOP, "Safari on Mac"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "CriOS/126.0 Mobile/15E148 Safari/604.1", "Chrome on iPhone"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Windows"),
    ("curl/8.5.0", "curl/8.5.0"), ("", "Unknown device"),
])
def test_devices_have_short_names(agent, name):
    assert sessions.device(agent) == name


# Login limits -----------------------------------------------------------------------------------

def test_parallel_wrong_passwords_are_counted_before_any_is_checked(app, make_user):
    """Twelve wrong passwords at once from one address: at most five get checked."""
    email = make_user("rep").email
    db.session.remove()
    barrier = threading.Barrier(12)
    outcomes = []

    def guess(n):
        with app.app_context():
            barrier.wait()
            try:
                auth.authenticate(db.session, email, f"guess-{n}", "10.9.9.9", slow_seconds=0)
            except LoginRefused:
                outcomes.append("checked")
            except LoginThrottled:
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == 12
    assert outcomes.count("checked") <= 5
    # Refused tries are not kept: only the checked ones count against the address.
    assert db.session.scalar(select(func.count(LoginAttempt.id))) == outcomes.count("checked")


def test_many_failures_on_an_account_slow_the_right_password_but_let_it_in(app, make_user):
    user = make_user("rep")
    for n in range(6):  # from six addresses: none of them is refused
        with pytest.raises(LoginRefused):
            auth.authenticate(db.session, user.email, "nope", f"10.2.0.{n}", slow_after=5, slow_seconds=0)
    started = time.monotonic()
    assert auth.authenticate(db.session, user.email, PASSWORD, "10.3.0.1", slow_after=5,
                             slow_seconds=0.4).id == user.id
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    assert auth.authenticate(db.session, user.email, PASSWORD, "10.3.0.1", slow_after=10,
                             slow_seconds=5).id == user.id
    assert time.monotonic() - started < 5  # under the limit: no wait


def test_the_login_page_says_when_this_address_is_refused(client, make_user):
    user = make_user("rep")
    for _ in range(5):
        assert client.post("/login", data={"email": user.email, "password": "nope"}).status_code == 401
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed logins for this account from your address" in response.get_data(as_text=True)


# Feed links ------------------------------------------------------------------------------------

def _feed_url(browser):
    page = browser.get("/events").get_data(as_text=True)
    return re.search(r'value="https?://[^/"]+(/events\.ics\?token=[^"]+)"', page).group(1).replace("&amp;", "&")


def test_new_link_turns_the_old_calendar_link_off(app, make_user):
    browser = _log_in(app, make_user("rep"))
    old = _feed_url(browser)
    calendar = app.test_client()  # a calendar app: no session
    assert calendar.get(old).status_code == 200
    response = browser.post("/events/feed/new-link", follow_redirects=True)
    assert "the old one no longer works" in response.get_data(as_text=True)
    new = _feed_url(browser)
    assert new != old
    assert calendar.get(old).status_code == 404
    assert calendar.get(new).status_code == 200


def test_a_reactivated_users_old_calendar_link_stays_off(app, make_user):
    user = make_user("rep")
    old = _feed_url(_log_in(app, user))
    calendar = app.test_client()
    assert calendar.get(old).status_code == 200
    auth.update_user(db.session, user, email=user.email, name=user.name, role="rep", active=False)
    assert calendar.get(old).status_code == 404
    auth.update_user(db.session, user, email=user.email, name=user.name, role="rep", active=True)
    assert calendar.get(old).status_code == 404
    assert calendar.get(_feed_url(_log_in(app, user))).status_code == 200


def test_links_from_before_feed_secrets_keep_working_until_renewed(app, make_user):
    user = make_user("rep")
    assert user.feed_secret is None
    token = feed.feed_token(user, app.config["SECRET_KEY"])
    calendar = app.test_client()
    assert calendar.get(f"/events.ics?token={token}").status_code == 200
    for bad in (token + "x", "²." + token.split(".")[1], "", "1", f"{user.id}."):
        assert calendar.get(f"/events.ics?token={bad}").status_code in (302, 404), bad


# Access logs ----------------------------------------------------------------------------------

@pytest.mark.parametrize("line, shown", [
    ("GET /events.ics?token=7.abcDEF_- HTTP/1.1", "GET /events.ics?token=[redacted] HTTP/1.1"),
    ("GET /events.ics?x=1&token=7.abc&y=2 HTTP/1.1", "GET /events.ics?x=1&token=[redacted]&y=2 HTTP/1.1"),
    ("token=7.abc", "token=[redacted]"),
    ("GET /catalog?q=tokens HTTP/1.1", "GET /catalog?q=tokens HTTP/1.1"),
])
def test_secret_query_values_are_redacted(line, shown):
    assert redact(line) == shown


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_access_log_hides_the_feed_token(app, database_url, tmp_path, make_user):
    """The real server with the repository's gunicorn.conf.py writes `token=[redacted]`."""
    user = make_user("rep")
    token = feed.feed_token(user, "test-secret")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    log = tmp_path / "access.log"
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="test-secret")
    env.pop("TEST_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", str(log), "inventory:create_app()"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/events.ics?token={token}", timeout=5) as answer:
                    assert answer.status == 200
                break
            except urllib.error.URLError:
                if process.poll() is not None or time.time() > deadline:
                    raise AssertionError(process.stderr.read().decode() if process.poll() is not None else "no server")
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(10)
    written = log.read_text()
    assert "/events.ics?token=[redacted]" in written
    assert token not in written and token.split(".")[1] not in written


def test_passwords_longer_than_any_passphrase_are_refused_without_hashing_them(client, make_user, session):
    user = make_user("rep")
    with pytest.raises(InvalidInput, match="at most 1,024 characters"):
        auth.set_password(session, user, "x" * 1025)
    response = client.post("/login", data={"email": user.email, "password": "x" * 100_000})
    assert response.status_code == 400 and "1024" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(LoginAttempt.id))) == 0


def test_a_user_agent_with_a_nul_still_logs_in(client, make_user, session):
    """Headers are not checked for NUL on their way in (gunicorn refuses them, the development
    server does not): the session keeps the printable rest."""
    user = make_user("rep")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD},
                           headers={"User-Agent": "Evil\x00Agent"})
    assert response.status_code == 302
    assert session.scalar(select(UserSession.user_agent)) == "EvilAgent"
