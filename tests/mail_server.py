"""A real SMTP server for tests: aiosmtpd's Controller on a free loopback port, collecting mail."""
import asyncio
import socket
import threading
from email import message_from_bytes
from email.policy import default

from aiosmtpd.controller import Controller


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailServer:
    """start() / stop() / start() again on the same port; `messages` are parsed EmailMessages."""

    def __init__(self):
        self.port = free_port()
        self.messages = []
        self.envelopes = []
        self._lock = threading.Lock()
        self._controller = None
        # A slow server: seconds to wait before confirming each message it has taken.
        self.delay = 0
        # Called (in the server's thread) with each message taken, before it is confirmed.
        self.on_message = None

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content or envelope.content, policy=default)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append(list(envelope.rcpt_tos))
        if self.on_message is not None:
            self.on_message(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"

    def start(self):
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def config(self):
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port, "MAIL_USE_TLS": False,
                "MAIL_FROM": "Swag stock <stock@example.com>", "MAIL_TIMEOUT": 5}

    @staticmethod
    def text(message):
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html(message):
        return message.get_body(preferencelist=("html",)).get_content()
