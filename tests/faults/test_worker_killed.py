"""A gunicorn worker killed in the middle of writes (out of memory, a deploy gone wrong): its
transaction is rolled back by the database, every 201 a client got is in the ledger, the
ledger and the stock levels agree, and gunicorn's new worker serves at once."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from sqlalchemy import func, select

from inventory.auth import services as auth
from inventory.stock.models import Movement


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _workers(master_pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master_pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def test_a_worker_killed_mid_write_loses_nothing_it_confirmed(app, database_url, tmp_path, session, make_user,
                                                              make_item, runner):
    user = make_user("staff")
    make_item("PEN-1", on_hand=1)
    token = auth.create_token(session, user, "load")[1]
    before = session.scalar(select(func.coalesce(func.sum(Movement.quantity), 0)))
    session.remove()

    port = _free_port()
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="test-secret")
    env.pop("TEST_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--chdir", str(tmp_path),
         "--pythonpath", os.getcwd(), "inventory:create_app()"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=2)
                break
            except OSError:
                assert time.time() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.2)

        confirmed, lost = [], []
        stop = threading.Event()

        def client():
            while not stop.is_set():
                request = urllib.request.Request(
                    url + "/api/v1/movements", method="POST",
                    data=json.dumps({"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": 1}).encode(),
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(request, timeout=20) as response:
                        (confirmed if response.status == 201 else lost).append(response.status)
                except urllib.error.HTTPError as error:
                    lost.append(error.code)
                except OSError:  # the worker died with the request: no answer at all
                    lost.append("dropped")

        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        killed = 0
        for _ in range(3):
            time.sleep(0.8)
            workers = _workers(server.pid)
            if workers:
                os.kill(workers[0], signal.SIGKILL)
                killed += 1
        time.sleep(1.5)
        stop.set()
        for thread in threads:
            thread.join(30)
        assert killed == 3 and confirmed
        assert set(lost) <= {"dropped", 503}, lost
        # gunicorn has started new workers, which answer.
        with urllib.request.urlopen(url + "/healthz", timeout=10) as response:
            assert response.status == 200
    finally:
        server.terminate()
        server.wait(15)

    booked = session.scalar(select(func.coalesce(func.sum(Movement.quantity), 0))) - before
    # Every confirmed write is in; at most the ones whose answer was lost with a worker besides.
    assert len(confirmed) <= booked <= len(confirmed) + len([x for x in lost if x == "dropped"])
    assert runner.invoke(args=["check"]).exit_code == 0
