"""The suite under test: a private MariaDB, every service and the gateway,
started, killed and restarted the way tools/up and tools/db do it, with the
services reaching the database through a FaultProxy."""

import os
import signal
import socket
import subprocess
import time
import urllib.request

from . import proxy as proxy_mod

SERVICES = ("billing", "tickets", "archives", "handover", "cleaning")
GRPC_PORTS = {"billing": 50051, "tickets": 50052, "archives": 50053, "handover": 50054,
              "cleaning": 50055}
HTTP_PORT = 8080


def _free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port_offset(seed):
    """An offset at which every port tools/up uses is free and outside the
    kernel's ephemeral range: a killed service must get its port back, and
    another process's outgoing connection could take an ephemeral one."""
    low, high = _ephemeral_range()
    ports = [50051, 50052, 50053, 50054, 50055, 9101, 9102, 9103, 9104, 9105, 8080, 9090, 13306]
    fits = [off for off in range(-7000, 15480)
            if all(1024 <= p + off <= 65535 and not low <= p + off <= high for p in ports)]
    if not fits:
        raise RuntimeError(f"no port range for the chaos suite outside {low}-{high}")
    for i in range(len(fits)):
        off = fits[(seed + 7 * i) % len(fits)]
        if all(_free(p + off) for p in ports):
            return off
    raise RuntimeError("no free port range for the chaos suite")


def _running(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def _signal_and_wait(pids, sig, seconds):
    """Sends sig to every pid, waits up to `seconds` for all to be gone,
    SIGKILLs what is left."""
    pids = [p for p in pids if _running(p)]
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + seconds
    while any(_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    for pid in pids:
        if _running(pid):
            os.kill(pid, signal.SIGKILL)


class Suite:
    def __init__(self, root, build, work, sites, log):
        self.root, self.build, self.work, self.sites, self.log = root, build, work, sites, log
        self.var = os.path.join(work, "var")
        self.db_dir = os.path.join(self.var, "db")
        self.db_port = None
        self.offset = None
        self.proxy = None

    # --- addresses -------------------------------------------------------
    def http_base(self):
        return f"http://127.0.0.1:{HTTP_PORT + self.offset}"

    def grpc_addr(self, service):
        return f"127.0.0.1:{GRPC_PORTS[service] + self.offset}"

    def pid(self, name):
        try:
            with open(os.path.join(self.var, "run", f"{name}.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    # --- lifecycle -------------------------------------------------------
    def start(self):
        os.makedirs(self.work, exist_ok=True)
        self.offset = free_port_offset(os.getpid())
        # tools/up's database port, shifted like the rest: MariaDB restarts on
        # it after each kill.
        self.db_port = 13306 + self.offset
        self._tool("db", "start", self.db_dir, str(self.db_port))
        self.proxy = proxy_mod.FaultProxy(self.db_port)
        self.log(f"suite: MariaDB 127.0.0.1:{self.db_port}, services reach it through the fault "
                 f"proxy on {self.proxy.port}; ports offset +{self.offset}")
        self.up(demo_sites=" ".join(self.sites))

    def up(self, demo_sites=""):
        """tools/up: starts whatever is not running (the database included)."""
        env = dict(os.environ, ESTATE_VAR=self.var, ESTATE_BUILD=self.build,
                   ESTATE_DB_PORT=str(self.db_port), ESTATE_SERVICES_DB_PORT=str(self.proxy.port),
                   ESTATE_PORT_OFFSET=str(self.offset), ESTATE_DEMO_SITES=demo_sites,
                   ESTATE_UP_NO_BUILD="1",
                   # Small batches and a short lease: a bill run is still
                   # part-way when billing is killed, and resumes soon after.
                   ESTATE_BILL_RUN_BATCH="3", ESTATE_BILL_RUN_LEASE="3s")
        with open(os.path.join(self.work, "up.log"), "a") as out:
            subprocess.run([os.path.join(self.root, "tools", "up")], env=env, stdout=out,
                           stderr=subprocess.STDOUT, check=True)

    def stop(self):
        """SIGTERM to every process at once (each drains for a few seconds),
        then the database."""
        _signal_and_wait([self.pid(n) for n in SERVICES + ("gateway",)], signal.SIGTERM, 30)
        self._tool("db", "stop", self.db_dir)

    def kill(self, name, sig=signal.SIGKILL):
        _signal_and_wait([self.pid(name)], sig, 20)

    def kill_db(self):
        self._tool("db", "kill", self.db_dir)

    def alive(self, name):
        return _running(self.pid(name))

    def healthy(self):
        """Every process up and the gateway ready, without anyone restarting it."""
        down = [n for n in SERVICES + ("gateway",) if not self.alive(n)]
        try:
            with urllib.request.urlopen(self.http_base() + "/readyz", timeout=5) as r:
                ready = r.status == 200
        except OSError:
            ready = False
        return down, ready

    def sql(self, query):
        """Rows (lists of strings) of a root query on the private MariaDB."""
        out = subprocess.run([os.path.join(self.root, "tools", "db"), "sql", self.db_dir, "-N", "-B"],
                             input=query, check=True, capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def token(self, role, sub):
        """A gateway token for every chaos site."""
        args = [os.path.join(self.build, "bin", "estatectl"), "token",
                f"--secret_file={os.path.join(self.var, 'secrets', 'gateway-jwt-hs256')}",
                f"--role={role}", f"--sub={sub}", "--ttl=24h", "--site=" + ",".join(self.sites)]
        return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()

    def _tool(self, *args):
        subprocess.run([os.path.join(self.root, "tools", args[0])] + list(args[1:]), check=True,
                       stdout=subprocess.DEVNULL)
