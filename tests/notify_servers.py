"""Local stand-ins for the notification channels, on 127.0.0.1 only: an SMTP server with STARTTLS and
login (aiosmtpd), and HTTP servers answering as a webhook or an SMS gateway would, or failing."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
USER, PASSWORD = "casework", "s3cret-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, written to ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass
class Mailbox:
    port: int
    cafile: str
    messages: list[Any] = field(default_factory=list)
    received: int = 0
    logins: list[str] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)


@contextmanager
def smtp_server(folder: Path, keep: bool = True, slow_first_reply: float = 0.0) -> Iterator[Mailbox]:
    """aiosmtpd on 127.0.0.1: STARTTLS required before login, login required before mail.

    ``keep``: parse and keep every message (for tests); otherwise only count them (for the bench).
    ``slow_first_reply``: seconds the server takes to confirm the first message, having taken it.
    """
    import asyncio
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = self_signed(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox(free_port(), str(cert))

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            box.received += 1
            if keep:
                box.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
                box.tls.append(session.ssl is not None)
            if box.received == 1 and slow_first_reply:
                await asyncio.sleep(slow_first_reply)
            return "250 OK"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
        if ok:
            box.logins.append(data.login.decode())
        return AuthResult(success=ok)

    controller = Controller(
        Handler(),
        hostname=HOST,
        port=box.port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
        auth_required=True,
        server_hostname=HOST,
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class Web:
    url: str
    bodies: list[Any] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)


@contextmanager
def http_server(answers: list[int], hang_seconds: float = 0.0, path: str = "/send") -> Iterator[Web]:
    """Answers each POST with the next status of ``answers`` (the last one from then on); or hangs first."""
    done = threading.Event()
    web = Web("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            size = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(size)
            if hang_seconds:
                done.wait(hang_seconds)
            ctype = self.headers.get("Content-Type", "")
            web.bodies.append(json.loads(raw) if "json" in ctype else raw.decode())
            status = answers[min(len(web.answers), len(answers) - 1)]
            web.answers.append(status)
            body = json.dumps({"errcode": 0 if status == 200 else 500, "errmsg": "ok"}).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up waiting

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((HOST, 0), Handler)
    server.daemon_threads = True
    web.url = f"http://{HOST}:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield web
    finally:
        done.set()
        server.shutdown()
        server.server_close()


def refused_url() -> str:
    """An address on 127.0.0.1 where nothing listens: connecting is refused."""
    return f"http://{HOST}:{free_port()}/send"


def main() -> None:
    """``python tests/notify_servers.py DIR``: the SMTP server in a process of its own (for bench/review.py).

    Prints "PORT CAFILE" once it listens, serves until its standard input closes, then prints how
    many messages it received.
    """
    import logging
    import sys

    # aiosmtpd 1.4 itself sets the deprecated Session.login_data after every successful AUTH,
    # whatever authenticator is used, and logs a warning each time (logger "mail.log", not the
    # warnings module): thousands of lines in the bench's output. That one notice is dropped.
    logging.getLogger("mail.log").addFilter(lambda record: "login_data is deprecated" not in record.getMessage())
    with smtp_server(Path(sys.argv[1]), keep=False) as box:
        print(box.port, box.cafile, flush=True)
        sys.stdin.read()
    print(box.received, flush=True)


if __name__ == "__main__":
    main()
