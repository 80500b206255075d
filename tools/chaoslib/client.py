"""HTTP/JSON calls through the gateway, and the retry rule of a careful client:
a write whose outcome is unknown (503, 504, a dropped connection, no answer
in time) is sent again with the same requestId until it gets an answer."""

import http.client
import json
import socket
import time
import urllib.parse

# Per-attempt client timeout: past the gateway's 10 s upstream deadline, so a
# wait longer than that is the gateway's fault, counted as "past deadline".
ATTEMPT_TIMEOUT = 15.0
DEADLINE = 10.0
UNKNOWN_STATUSES = (502, 503, 504)


class Answer:
    def __init__(self, status, body, seconds):
        self.status, self.body, self.seconds = status, body, seconds

    @property
    def ok(self):
        return isinstance(self.status, int) and 200 <= self.status < 300


class Client:
    """One keep-alive connection; not shared between threads."""

    def __init__(self, base, token):
        u = urllib.parse.urlparse(base)
        self.host, self.port, self.token = u.hostname, u.port, token
        self.conn = None

    def call(self, method, path, body=None, token=None):
        """One attempt. status is the HTTP status, or "reset"/"timeout"/"refused"."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        start = time.monotonic()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=ATTEMPT_TIMEOUT)
            self.conn.request(method, path, body=data, headers=headers)
            r = self.conn.getresponse()
            raw = r.read()
            try:
                parsed = json.loads(raw) if raw else {}
            except ValueError:
                parsed = {"raw": raw.decode(errors="replace")}
            return Answer(r.status, parsed, time.monotonic() - start)
        except socket.timeout:
            self._drop()
            return Answer("timeout", {}, time.monotonic() - start)
        except ConnectionRefusedError:
            self._drop()
            return Answer("refused", {}, time.monotonic() - start)
        except (OSError, http.client.HTTPException):
            self._drop()
            return Answer("reset", {}, time.monotonic() - start)

    def _drop(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None


def unknown_outcome(answer):
    return not isinstance(answer.status, int) or answer.status in UNKNOWN_STATUSES or (
        # ABORTED "request_id is being processed; retry": the first attempt is
        # still running somewhere.
        answer.status == 409 and answer.body.get("code") == 10 and "being processed" in
        answer.body.get("message", ""))
