"""A TCP proxy between the app and PostgreSQL that a test can break: refuse new connections and
cut the open ones (a restart or failover), or black-hole them (accept, never answer)."""
import socket
import threading
import time


class FaultyProxy:
    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.mode = "pass"
        self._connections = []
        self._lock = threading.Lock()
        self._listener = None
        self.port = None
        self._open()

    # Faults ----------------------------------------------------------------------------------
    def refuse(self):
        """Nothing listens any more and every open connection is cut: 'connection refused'."""
        self.mode = "refuse"
        self._close_listener()
        self.cut()

    def blackhole(self):
        """Connections are accepted and bytes taken, but nothing is passed on or answered."""
        self.mode = "blackhole"

    def cut(self):
        with self._lock:
            connections, self._connections = self._connections, []
        for sock in connections:
            _close(sock)

    def restore(self):
        """Back to passing traffic; connections opened while black-holed are cut."""
        if self.mode == "blackhole":
            self.cut()
        self.mode = "pass"
        if self._listener is None:
            self._open(self.port)

    def close(self):
        self.mode = "closed"
        self._close_listener()
        self.cut()

    # Plumbing --------------------------------------------------------------------------------
    def _open(self, port=0):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        self._listener = listener
        self.port = listener.getsockname()[1]
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _close_listener(self):
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self.mode == "blackhole":
                self._keep(client)
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            self._keep(client, server)
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _keep(self, *sockets):
        with self._lock:
            self._connections.extend(sockets)

    def _swallow(self, sock):
        try:
            while sock.recv(65536):
                pass
        except OSError:
            pass

    def _pump(self, source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                while self.mode == "blackhole":  # hold everything: nothing reaches the other side
                    time.sleep(0.05)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(sink)


def _close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
