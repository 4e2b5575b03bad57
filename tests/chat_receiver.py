"""A real HTTP receiver for chat webhooks on loopback (http.server in a thread), told how to
answer: 200, any status with a body and headers, hang longer than the client's read timeout,
close the connection in the middle of its answer; stop() leaves the port closed, start() opens
it again. It counts, per X-Swag-Message-Id, the requests it accepted (answered 2xx)."""
import collections
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


class Receiver:
    def __init__(self):
        self.port = free_port()
        self.lock = threading.Lock()
        self.requests = []  # (path, headers dict, body bytes, answer)
        self.accepted = collections.Counter()  # message id -> requests answered 2xx
        # How to answer: ("ok",), ("status", code, body, headers), ("hang", seconds), ("cut",)
        self.mode = ("ok",)
        self.script = []  # answers used first, one per request, before `mode`
        self._server = None
        self._thread = None

    def url(self, path="/hook/T000-B000-Xy4Z"):
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, ssl_context=None):
        """Listen (again) on the port; with `ssl_context` (a server context), over TLS."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    answer = receiver.script.pop(0) if receiver.script else receiver.mode
                    receiver.requests.append((self.path, dict(self.headers.items()), body, answer))
                kind = answer[0]
                if kind == "hang":
                    time.sleep(answer[1])
                    self.close_connection = True
                    return
                if kind == "cut":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", "100")
                    self.end_headers()
                    self.wfile.write(b"only a part")
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if kind == "ok":
                    code, text, headers = 200, b"ok", {}
                else:
                    code, text, headers = answer[1], answer[2], answer[3] if len(answer) > 3 else {}
                    text = text.encode() if isinstance(text, str) else text
                if 200 <= code < 300:  # counted before answering: the client may check at once
                    with receiver.lock:
                        receiver.accepted[self.headers.get("X-Swag-Message-Id")] += 1
                self.send_response(code)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

        self._server = _Server(("127.0.0.1", self.port), Handler)
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def payloads(self):
        return [json.loads(body) for _, _, body, _ in self.requests]
