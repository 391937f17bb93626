"""Helpers shared by the compatibility tests: a client for the mock's control plane and
a local destination that checks every delivery with the SDK's own `Receiver`."""

import json
import os
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional

from qstash import Receiver
from qstash.errors import SignatureError


def env(name: str) -> str:
    """An environment variable run.sh exports; a clear failure when it is missing."""
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run these tests through tests/compat/run.sh")
    return value


class MockControl:
    """The mock's `/__mock` control plane over plain HTTP."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token

    def call(self, method: str, path: str, body: Optional[Any] = None) -> Any:
        """Sends one request and returns the decoded JSON answer; raises on non-2xx."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self._token}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            detail = error.read().decode()
            raise AssertionError(f"{method} {path} answered {error.code}: {detail}") from None
        return json.loads(text) if text else None

    def reset(self) -> Any:
        return self.call("POST", "/__mock/reset")

    def settle(self) -> Any:
        """Runs the deliveries due now, without moving the clock."""
        return self.call("POST", "/__mock/clock/settle")

    def advance(self, by: str) -> Any:
        return self.call("POST", "/__mock/clock/advance", {"by": by})

    def advance_to(self, ms: int) -> Any:
        return self.call("POST", "/__mock/clock/advance-to", {"to": ms})

    def run_until_idle(self) -> Any:
        return self.call("POST", "/__mock/clock/run-until-idle", {"maxSteps": 1000})

    def now_ms(self) -> int:
        return self.call("GET", "/__mock/clock")["now"]

    def events(self, event: Optional[str] = None) -> List[Dict[str, Any]]:
        query = f"?event={event}" if event else ""
        return self.call("GET", f"/__mock/events{query}")["events"]

    def timeline(self, message_id: str) -> Any:
        return self.call("GET", f"/__mock/messages/{message_id}/timeline")


@dataclass
class Delivery:
    """One request the destination received, with the SDK Receiver's verdict on its
    signature, checked against the wall clock as an app's receiver checks it."""

    method: str
    url: str
    path: str
    headers: Dict[str, str]
    body: str
    status: int
    verified: bool
    error: Optional[str] = None

    @property
    def retried(self) -> int:
        return int(self.headers.get("upstash-retried", "0"))


@dataclass
class Destination:
    """A local HTTP server standing in for the app QStash delivers to.

    It answers each path from a script of statuses picked by `Upstash-Retried`, like the
    mock's own sinks (the last status repeats; 200 when the path has no script), and
    verifies every `Upstash-Signature` against the exact URL it was published to.
    """

    current_signing_key: str
    next_signing_key: str
    deliveries: List[Delivery] = field(default_factory=list)
    scripts: Dict[str, List[int]] = field(default_factory=dict)
    reply_headers: Dict[str, Dict[str, str]] = field(default_factory=dict)
    stalls: Dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: Optional[ThreadingHTTPServer] = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the destination is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        """The URL to publish to for `path` (which may carry a query string)."""
        return self.base_url + path

    def start(self) -> None:
        destination = self

        class Handler(BaseHTTPRequestHandler):
            def do_request(self) -> None:
                destination._receive(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_request

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def forget(self) -> None:
        """Forgets deliveries and scripts and returns to the launch keys."""
        with self._lock:
            self.deliveries.clear()
            self.scripts.clear()
            self.reply_headers.clear()
            self.stalls.clear()
            self.current_signing_key = env("QSTASH_CURRENT_SIGNING_KEY")
            self.next_signing_key = env("QSTASH_NEXT_SIGNING_KEY")

    def use_keys(self, current_key: str, next_key: str) -> None:
        """Verifies from now on with a new key pair, as an app would after a rotation."""
        with self._lock:
            self.current_signing_key = current_key
            self.next_signing_key = next_key

    def respond(
        self,
        path: str,
        statuses: List[int],
        headers: Optional[Dict[str, str]] = None,
        stall_first_s: float = 0.0,
    ) -> None:
        """Answers requests to `path` (without query) with `statuses[Upstash-Retried]`,
        the last one repeating, and `headers` on every answer. The first attempt waits
        `stall_first_s` seconds of wall time before answering, to provoke a timeout."""
        with self._lock:
            self.scripts[path] = statuses
            self.reply_headers[path] = headers or {}
            self.stalls[path] = stall_first_s

    def received(self, path: Optional[str] = None) -> List[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if path is None or d.path == path]

    def unverified(self) -> List[Delivery]:
        return [d for d in self.received() if not d.verified]

    def _receive(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode("utf-8", errors="replace")
        headers = {name.lower(): value for name, value in handler.headers.items()}
        url = self.url(handler.path)
        retried = int(headers.get("upstash-retried", "0"))
        bare_path = handler.path.split("?")[0]
        with self._lock:
            receiver = Receiver(
                current_signing_key=self.current_signing_key,
                next_signing_key=self.next_signing_key,
            )
            script = self.scripts.get(bare_path, [200])
            reply_headers = self.reply_headers.get(bare_path, {})
            stall = self.stalls.get(bare_path, 0.0) if retried == 0 else 0.0
        status = script[min(retried, len(script) - 1)]

        verified, error = _verify(receiver, headers, body, url)
        delivery = Delivery(
            method=handler.command,
            url=url,
            path=handler.path,
            headers=headers,
            body=body,
            status=status,
            verified=verified,
            error=error,
        )
        with self._lock:
            self.deliveries.append(delivery)

        if stall:
            time.sleep(stall)
        try:
            self._answer(handler, status, reply_headers)
        except (BrokenPipeError, ConnectionResetError):
            # The mock gave up on a stalled attempt and closed the connection.
            pass

    @staticmethod
    def _answer(
        handler: BaseHTTPRequestHandler, status: int, reply_headers: Dict[str, str]
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain")
        for name, value in reply_headers.items():
            handler.send_header(name, value)
        answer = f"answered {status}".encode()
        handler.send_header("Content-Length", str(len(answer)))
        handler.end_headers()
        handler.wfile.write(answer)


def _verify(
    receiver: Receiver, headers: Dict[str, str], body: str, url: str
) -> "tuple[bool, Optional[str]]":
    signature = headers.get("upstash-signature")
    if signature is None:
        return False, "no Upstash-Signature header"
    try:
        receiver.verify(signature=signature, body=body, url=url)
    except SignatureError as error:
        return False, str(error)
    return True, None

