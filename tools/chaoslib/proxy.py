"""A TCP proxy between the services and MariaDB that can misbehave on cue.

Faults (set with the methods below, cleared with heal()):
  latency      every chunk in both directions waits this long first
  reset_all    every open connection is reset (RST) at once: mid-transaction
               for whichever was in one
  cut_commits  every Nth COMMIT a client sends goes through to the server,
               and the connection is reset before the server's reply comes
               back: the client cannot know whether it committed
  refuse       new connections are reset as soon as they are accepted
  stall        nothing is forwarded until heal() (a network partition that
               heals within TCP's retransmission time looks like this)

MySQL's protocol frames each command as a 4-byte header and a command byte.
services/kit sends COMMIT as a prepared statement: COM_STMT_PREPARE (0x16)
with the text "COMMIT", whose answer carries the statement id, then
COM_STMT_EXECUTE (0x17) of that id. A COM_QUERY (0x03) "COMMIT" is caught too.
"""

import socket
import struct
import threading
import time

COM_QUERY = 0x03
COM_STMT_PREPARE = 0x16
COM_STMT_EXECUTE = 0x17


def _is_commit_text(packet):
    return packet[5:].strip().upper().startswith(b"COMMIT")


def _reset(sock):
    """An abortive close (RST). shutdown() first: close() alone does not
    release a socket another thread is blocked in recv() on, and the peer
    would see a silent network instead of a reset."""
    for step in (lambda: sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                         struct.pack("ii", 1, 0)),
                 lambda: sock.shutdown(socket.SHUT_RDWR), sock.close):
        try:
            step()
        except OSError:
            pass


class _Link:
    """One client connection and its server connection."""

    def __init__(self, proxy, client, server):
        self.proxy, self.client, self.server = proxy, client, server
        self.closed = False
        self.lock = threading.Lock()
        self.cut_after_reply = False
        self.preparing_commit = False
        self.commit_statements = set()  # ids of prepared COMMITs

    def close(self):
        with self.lock:
            if self.closed:
                return
            self.closed = True
        _reset(self.client)
        _reset(self.server)
        self.proxy._forget(self)

    def client_to_server(self):
        buf = b""
        try:
            while True:
                data = self.client.recv(65536)
                if not data:
                    break
                self.proxy._delay()
                buf += data
                # Whole packets only, so that a COMMIT can be seen.
                while len(buf) >= 4:
                    size = buf[0] | buf[1] << 8 | buf[2] << 16
                    if len(buf) < 4 + size:
                        break
                    packet, buf = buf[:4 + size], buf[4 + size:]
                    if self._is_commit(packet) and self.proxy._cut_this_commit():
                        self.cut_after_reply = True
                    self.server.sendall(packet)
        except OSError:
            pass
        self.close()

    def _is_commit(self, packet):
        if len(packet) < 5:
            return False
        cmd = packet[4]
        if cmd == COM_STMT_PREPARE and _is_commit_text(packet):
            self.preparing_commit = True
        elif cmd == COM_STMT_EXECUTE and len(packet) >= 9:
            return packet[5:9] in self.commit_statements
        elif cmd == COM_QUERY:
            return _is_commit_text(packet)
        return False

    def server_to_client(self):
        try:
            while True:
                data = self.server.recv(65536)
                if not data:
                    break
                if self.preparing_commit and len(data) >= 9:
                    # COM_STMT_PREPARE_OK: header, 0x00, statement id (4 bytes).
                    self.preparing_commit = False
                    if data[4] == 0:
                        self.commit_statements.add(bytes(data[5:9]))
                if self.cut_after_reply:
                    # The server has the COMMIT and answered; the client never
                    # hears it.
                    break
                self.proxy._delay()
                self.client.sendall(data)
        except OSError:
            pass
        self.close()


class FaultProxy:
    def __init__(self, target_port, listen_port=0):
        self.target_port = target_port
        self.latency = 0.0
        self.cut_commits = 0  # every Nth COMMIT is cut; 0: none
        self.refuse = False
        self.stall = False
        self.commits_seen = 0
        self.commits_cut = 0
        self.accepted = 0
        self.refused = 0
        self.resets = 0
        self._links = set()
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", listen_port))
        self._listener.listen(256)
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def heal(self):
        self.latency, self.cut_commits, self.refuse, self.stall = 0.0, 0, False, False

    def reset_all(self):
        with self._lock:
            links = list(self._links)
        for link in links:
            link.close()
        with self._lock:
            self.resets += len(links)
        return len(links)

    def stats(self):
        with self._lock:
            return {"connections opened": self.accepted, "refused": self.refused,
                    "reset": self.resets, "COMMITs": self.commits_seen,
                    "COMMIT replies cut": self.commits_cut}

    def connections(self):
        with self._lock:
            return len(self._links)

    def _cut_this_commit(self):
        """Counts a COMMIT; whether this one's reply is to be cut."""
        with self._lock:
            self.commits_seen += 1
            if self.cut_commits and self.commits_seen % self.cut_commits == 0:
                self.commits_cut += 1
                return True
            return False

    def _delay(self):
        while self.stall:
            time.sleep(0.01)
        if self.latency:
            time.sleep(self.latency)

    def _forget(self, link):
        with self._lock:
            self._links.discard(link)

    def _accept_loop(self):
        while True:
            client, _ = self._listener.accept()
            if self.refuse:
                _reset(client)
                with self._lock:
                    self.refused += 1
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                server.settimeout(None)
            except OSError:
                _reset(client)
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(self, client, server)
            with self._lock:
                self._links.add(link)
                self.accepted += 1
            threading.Thread(target=link.client_to_server, daemon=True).start()
            threading.Thread(target=link.server_to_client, daemon=True).start()
