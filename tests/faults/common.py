"""What the fault tests share: the staff user sam@example.com logged in, and a receipt of PEN-1
into A-01 through the API (a write that either commits whole or not at all)."""
from tests.conftest import PASSWORD


def logged_in(app):
    client = app.test_client()
    assert client.post("/login", data={"email": "sam@example.com", "password": PASSWORD}).status_code == 302
    return client


def receive(client, token, quantity=1):
    return client.post("/api/v1/movements", json={"kind": "receive", "sku": "PEN-1", "bin": "A-01",
                                                  "quantity": quantity},
                       headers={"Authorization": f"Bearer {token}"})
