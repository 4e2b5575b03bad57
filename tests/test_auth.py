"""Users, roles, login limits, CSRF and the role check on every route."""
import re

import pytest
from sqlalchemy import select

from inventory.auth import services as auth
from inventory.auth.models import LoginAttempt, User
from inventory.errors import DuplicateCode, InvalidInput, LoginRefused, LoginThrottled
from tests.conftest import PASSWORD, make_test_app


def test_passwords_are_stored_as_argon2id_hashes(session, make_user):
    user = make_user("rep")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_login_and_logout(client, auth_client, make_user):
    user = make_user("rep")
    assert client.get("/catalog").status_code == 302  # to the login page
    response = auth_client.login(user)
    assert response.status_code == 302
    assert client.get("/catalog").status_code == 200
    auth_client.logout()
    assert client.get("/catalog").headers["Location"].startswith("/login")


def test_login_goes_back_to_the_label_url_that_asked_for_it(client, make_user, make_bin):
    make_bin("A-01")
    user = make_user("staff")
    assert "/login?next=%2Fb%2FA-01" in client.get("/b/A-01").headers["Location"]
    response = client.post("/login?next=/b/A-01", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/b/A-01"
    client.post("/logout")
    response = client.post("/login?next=https://evil.example/", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/catalog" or response.headers["Location"].endswith("/")


def test_wrong_password_and_deactivated_accounts_are_refused(client, auth_client, make_user, session):
    user = make_user("rep")
    response = auth_client.login(user, "wrong-password")
    assert response.status_code == 401 and "Wrong e-mail or password" in response.get_data(as_text=True)
    auth.update_user(session, user, email=user.email, name=user.name, role="rep", active=False)
    assert auth_client.login(user).status_code == 401


def test_a_deactivated_user_is_logged_out_at_once(client, auth_client, make_user, session):
    user = make_user("rep")
    auth_client.login(user)
    auth.update_user(session, user, email=user.email, name=user.name, role="rep", active=False)
    assert client.get("/catalog").status_code == 302


def test_failed_logins_are_limited_per_account_and_address(session, make_user):
    user = make_user("rep")
    for _ in range(5):
        with pytest.raises(LoginRefused):
            auth.authenticate(session, user.email, "nope", "10.0.0.1", slow_seconds=0)
    with pytest.raises(LoginThrottled, match="this account from your address"):
        auth.authenticate(session, user.email, PASSWORD, "10.0.0.1", slow_seconds=0)  # even the right one
    # From elsewhere the right password still works: knowing an e-mail cannot lock its user out.
    assert auth.authenticate(session, user.email, PASSWORD, "10.0.0.2", slow_seconds=0).id == user.id


def test_failed_logins_are_limited_per_address(session, make_user):
    user = make_user("rep")
    for n in range(20):
        with pytest.raises(LoginRefused):
            auth.authenticate(session, f"guess{n}@example.com", "nope", "10.0.0.9", slow_seconds=0)
    with pytest.raises(LoginThrottled, match="your address"):
        auth.authenticate(session, user.email, PASSWORD, "10.0.0.9")
    assert auth.authenticate(session, user.email, PASSWORD, "10.0.0.10").id == user.id


def test_a_successful_login_clears_the_failures_from_its_address(session, make_user):
    user = make_user("rep")
    for _ in range(3):
        with pytest.raises(LoginRefused):
            auth.authenticate(session, user.email, "nope", "10.0.0.1")
    with pytest.raises(LoginRefused):
        auth.authenticate(session, user.email, "nope", "10.0.0.7")
    auth.authenticate(session, user.email, PASSWORD, "10.0.0.1")
    left = session.scalars(select(LoginAttempt).where(LoginAttempt.email == user.email)).all()
    assert [a.address for a in left] == ["10.0.0.7"]


def test_the_login_page_answers_429_when_throttled(client, make_user):
    user = make_user("rep")
    for _ in range(5):
        client.post("/login", data={"email": user.email, "password": "nope"})
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429 and "Too many failed logins" in response.get_data(as_text=True)


@pytest.mark.parametrize("email, role, password, error", [
    ("not-an-email", "rep", "long-enough", InvalidInput),
    ("a@example.com", "boss", "long-enough", InvalidInput),
    ("a@example.com", "rep", "short", InvalidInput),
])
def test_bad_user_input_is_refused(session, email, role, password, error):
    with pytest.raises(error):
        auth.create_user(session, email, role, password)
    assert session.scalar(select(User.id)) is None


def test_emails_are_unique_whatever_their_case(session, make_user):
    make_user("rep", email="riley@example.com")
    with pytest.raises(DuplicateCode):
        auth.create_user(session, "Riley@Example.com", "staff", "long-enough")


def test_admin_adds_edits_deactivates_and_resets_a_user(client, login, session, auth_client):
    login("admin")
    response = client.post("/admin/users/new", data={"email": "new@example.com", "name": "New Rep", "role": "rep",
                                                     "password": "first-password", "active": "y"})
    assert response.status_code == 302
    user = auth.user_by_email(session, "new@example.com")
    assert client.post(f"/admin/users/{user.id}", data={"email": "new@example.com", "name": "New Staff",
                                                        "role": "staff"}).status_code == 302  # active unticked
    session.expire_all()
    assert (user.role, user.active) == ("staff", False)
    assert client.post(f"/admin/users/{user.id}", data={"pw-password": "second-password"}).status_code == 302
    session.expire_all()
    auth.update_user(session, user, email=user.email, name=user.name, role="staff", active=True)
    client.post("/logout")
    assert auth_client.login("new@example.com", "second-password").status_code == 302


def test_an_admin_cannot_lock_themselves_out(client, login, session):
    admin = login("admin")
    response = client.post(f"/admin/users/{admin.id}", data={"email": admin.email, "role": "rep"})
    assert "cannot deactivate yourself" in response.get_data(as_text=True)
    session.expire_all()
    assert admin.role == "admin"


def test_create_user_command(runner, session):
    result = runner.invoke(args=["create-user", "cli@example.com", "--role", "manager", "--password", "cli-password"])
    assert result.exit_code == 0, result.output
    assert auth.user_by_email(session, "cli@example.com").role == "manager"
    again = runner.invoke(args=["create-user", "cli@example.com", "--role", "rep", "--password", "cli-password"])
    assert again.exit_code != 0 and "already exists" in again.output
    bad = runner.invoke(args=["create-user", "x@example.com", "--role", "boss", "--password", "cli-password"])
    assert bad.exit_code != 0


def test_profile_creates_shows_once_and_revokes_tokens(client, login, session):
    user = login("rep")
    html = client.post("/profile", data={"token-label": "sheet"}).get_data(as_text=True)
    token = re.search(r"(inv_[A-Za-z0-9_-]{20,})", html).group(1)
    assert auth.user_for_token(session, token).id == user.id
    assert token not in client.get("/profile").get_data(as_text=True)  # shown once only
    token_id = user.tokens[0].id
    assert client.post(f"/profile/tokens/{token_id}/revoke").status_code == 302
    assert auth.user_for_token(session, token) is None


def test_change_own_password(client, login, auth_client):
    user = login("staff")
    wrong = client.post("/profile", data={"pw-current_password": "nope", "pw-password": "brand-new-pass"})
    assert "current password is not right" in wrong.get_data(as_text=True)
    client.post("/profile", data={"pw-current_password": PASSWORD, "pw-password": "brand-new-pass"})
    client.post("/logout")
    assert auth_client.login(user, "brand-new-pass").status_code == 302


@pytest.mark.parametrize("role, forbidden", [
    ("rep", ["/admin/users", "/admin/users/new", "/bins/new", "/stock/receive", "/catalog/new"]),
    ("staff", ["/admin/users", "/catalog/new"]),
    ("manager", ["/admin/users"]),
])
def test_wrong_role_gets_the_403_page(client, login, role, forbidden):
    login(role)
    for url in forbidden:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Not allowed" in response.get_data(as_text=True)


def test_every_route_declares_who_may_use_it(app):
    """A route without a role declaration would be open to anyone logged in (or not)."""
    undeclared = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "allowed_roles", None):
            undeclared.append(rule.rule)
    assert undeclared == []


def test_a_post_without_csrf_token_is_refused(database_url, tmp_path, make_user, make_item, make_bin):
    """With CSRF on (as in production), a form POST without its token changes nothing."""
    from inventory.extensions import db
    from inventory.stock import queries as stock_queries

    item = make_item("PEN-1", on_hand=5, bin="A-01")
    make_bin("A-02")
    user = make_user("staff")
    app = make_test_app(database_url, tmp_path / "csrf", WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 400
        assert client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": token}).status_code == 302
        response = client.post("/stock/move", data={"sku": "PEN-1", "from_bin": "A-01", "to_bin": "A-02",
                                                    "quantity": "2"})
        assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
        assert stock_queries.level(db.session, item, make_bin("A-01")) == 5
        assert client.post("/logout").status_code == 400


def test_security_headers_and_cookie_flags(client, auth_client, make_user):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    user = make_user("rep")
    cookie = auth_client.login(user).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = client.post("/login", data={"email": user.email, "password": PASSWORD}, base_url="https://localhost")
    assert "Secure" in secure.headers.get("Set-Cookie", "Secure")
