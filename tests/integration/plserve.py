# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers of the integration tests: run `postlab-cli serve`, talk POP3 like telnet."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77  # meson's exit code for "skipped"

GREETING = b"+OK POP3 server ready\r\n"
LOGGED_ON = b"+OK user successfully logged on\r\n"
SIGNING_OFF = b"+OK POP3 server signing off\r\n"
TEXTBOOK_SIZES = (498, 912)


def cli_from_argv():
    """The postlab-cli program, as meson passes it (first argument)."""
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit("usage: %s PATH-TO-postlab-cli" % sys.argv[0])
    return sys.argv[1]


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    """A loopback port that was free a moment ago."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def crlf(data):
    """RFC 5322 line ends: every line ends with CRLF, as POP3 counts and sends them."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def dot_stuff(message):
    """RFC 1939 section 3: a line starting with '.' gets one more '.' on the wire."""
    lines = message.split(b"\r\n")
    return b"\r\n".join(b"." + line if line.startswith(b".") else line for line in lines)


def dot_unstuff(body):
    lines = body.split(b"\r\n")
    return b"\r\n".join(line[1:] if line.startswith(b"..") else line for line in lines)


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def check_equal(got, expected, what):
    if got != expected:
        raise AssertionError("%s: got %r, expected %r" % (what, got, expected))


# The four services of the default world, as `serve --port SERVER:SERVICE=N` names them.
SERVICES = ("a.example:smtp", "a.example:pop3", "b.example:smtp", "b.example:pop3")


def free_ports():
    """A free loopback port for each service of the default world."""
    ports = {}
    while len(set(ports.values())) < len(SERVICES):
        ports = {service: free_port() for service in SERVICES}
    return ports


def port_args(ports):
    """`serve` options that put each service of the default world on the port given."""
    args = []
    for service, port in ports.items():
        args += ["--port", "%s=%d" % (service, port)]
    return args


class Server:
    """`postlab-cli serve` of the default world on free loopback ports with a fresh data folder
    (or the one given). `ports` (a dict like free_ports() makes) keeps the ports of an earlier
    run, so that a restart is the same world; `probe` is the service to wait for."""

    def __init__(self, cli, *extra, data=None, auth_delay=50, verbose=False, ports=None,
                 probe="b.example:pop3"):
        self.tmp = tempfile.mkdtemp(prefix="postlab-test-")
        self.data = data or os.path.join(self.tmp, "data")
        self.stdout_lines = []
        self.stderr_lines = []
        self.proc = None
        fixed = ports is not None
        for _attempt in range(5):
            self.ports = dict(ports) if fixed else free_ports()
            self.port = self.ports["b.example:pop3"]       # the textbook's POP3 server
            self.smtp_a = self.ports["a.example:smtp"]     # the sending server (submission)
            self.smtp_b = self.ports["b.example:smtp"]     # the receiving server
            self.pop3_a = self.ports["a.example:pop3"]
            args = [cli, "serve", "--data", self.data, *port_args(self.ports),
                    "--auth-delay", str(auth_delay), *extra]
            if verbose:
                args.append("--verbose")
            self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self._readers = [
                threading.Thread(target=self._collect, args=(self.proc.stdout, self.stdout_lines), daemon=True),
                threading.Thread(target=self._collect, args=(self.proc.stderr, self.stderr_lines), daemon=True),
            ]
            for reader in self._readers:
                reader.start()
            if self._wait_until_answering(self.ports[probe]):
                return
            # Another test may have taken a port between free_ports() and serve: try others.
            if fixed or not any(b"already in use" in line for line in self.stderr_lines):
                break
        raise AssertionError("postlab-cli serve did not start: exit %r\nstdout: %r\nstderr: %r"
                             % (self.proc.returncode, self.stdout_lines, self.stderr_lines))

    @staticmethod
    def _collect(stream, lines):
        for line in iter(stream.readline, b""):
            lines.append(line)
        stream.close()

    def _wait_until_answering(self, port, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                for reader in self._readers:
                    reader.join(timeout=5)
                return False
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                    probe.recv(64)
                return True
            except OSError:
                time.sleep(0.05)
        return False

    @property
    def pid(self):
        return self.proc.pid

    def stdout(self):
        return b"".join(self.stdout_lines).decode("utf-8", "replace")

    def stderr(self):
        return b"".join(self.stderr_lines).decode("utf-8", "replace")

    def rss_kib(self):
        with open("/proc/%d/status" % self.pid) as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS for pid %d" % self.pid)

    def sanitized(self):
        """TRUE when serve runs under AddressSanitizer, whose quarantine of freed memory
        inflates RSS by design: memory bounds are then checked by the plain build only."""
        with open("/proc/%d/maps" % self.pid) as maps:
            return "libasan" in maps.read()

    def check_rss_growth(self, before_kib, limit_kib, what):
        after = self.rss_kib()
        print("  # RSS %s: %d KiB -> %d KiB" % (what, before_kib, after), flush=True)
        if self.sanitized():
            print("  # (AddressSanitizer build: RSS bound not checked)", flush=True)
            return
        check(after - before_kib < limit_kib, "RSS %s grew by %d KiB (limit %d KiB)"
              % (what, after - before_kib, limit_kib))

    def domain_folder(self, domain="b.example"):
        """DATA/DOMAIN: the domain's users file, Maildirs and (a sending server's) queue."""
        return os.path.join(self.data, domain)

    def maildir(self, user="bob", domain="b.example"):
        return os.path.join(self.data, domain, "mail", user)

    def messages_on_disk(self, user="bob", domain="b.example"):
        """The messages in the user's Maildir (new/ and cur/), CRLF line ends, sorted by size."""
        found = []
        for sub in ("new", "cur"):
            folder = os.path.join(self.maildir(user, domain), sub)
            if not os.path.isdir(folder):
                continue
            for name in sorted(os.listdir(folder)):
                with open(os.path.join(folder, name), "rb") as f:
                    found.append(crlf(f.read()))
        return sorted(found, key=len)

    def queue_files(self, domain="a.example"):
        """The names of the messages in the domain's queue (DATA/DOMAIN/queue/messages)."""
        folder = os.path.join(self.data, domain, "queue", "messages")
        return sorted(os.listdir(folder)) if os.path.isdir(folder) else []

    def wait_for_output(self, text, timeout=10):
        """Waits until serve's stdout holds @text; returns the output (raises on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.stdout()
            if text in out:
                return out
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError("serve never printed %r:\n%s\nstderr: %s" % (text, self.stdout(), self.stderr()))

    def kill(self):
        """SIGKILL: no clean-up at all, as a crash or a power cut would leave things."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for reader in self._readers:
            reader.join(timeout=5)

    def textbook_messages(self):
        """Message 1 and message 2 as the server seeded them (498 and 912 octets on the wire)."""
        messages = self.messages_on_disk()
        check_equal(tuple(len(m) for m in messages), TEXTBOOK_SIZES, "seeded message sizes")
        return messages

    def stop(self, expect_code=0):
        """SIGTERM, as Ctrl-C would: the server must exit by itself, with 0."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("postlab-cli serve did not stop on SIGTERM")
        for reader in self._readers:
            reader.join(timeout=5)
        if expect_code is not None:
            check_equal(self.proc.returncode, expect_code, "serve's exit code; stderr: %s" % self.stderr())
        return self.proc.returncode

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False


class Pop3Raw:
    """A POP3 client that types lines as a person at telnet would and reads raw octets back."""

    def __init__(self, port, host="127.0.0.1", timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def readline(self):
        return self.file.readline()

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, line):
        """Sends one command line; returns the first reply line, CRLF included."""
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")
        return self.readline()

    def read_body(self):
        """The rest of a multi-line reply, exactly as sent, up to and including ".\\r\\n"."""
        body = b""
        while True:
            line = self.readline()
            check(line != b"", "connection closed inside a multi-line reply")
            body += line
            if line == b".\r\n":
                return body

    def multi(self, line):
        first = self.cmd(line)
        check(first.startswith(b"+OK"), "%s: %r" % (line, first))
        return first, self.read_body()

    def login(self, user="bob", password="hungry", retry_locked=5.0):
        """USER and PASS; while a session that just ended may still hold the lock, tries again."""
        deadline = time.monotonic() + retry_locked
        while True:
            check(self.cmd("user " + user).startswith(b"+OK"), "USER refused")
            reply = self.cmd("pass " + password)
            if b"locked" not in reply or time.monotonic() > deadline:
                return reply
            time.sleep(0.05)

    def at_eof(self):
        return self.readline() == b""

    def close(self):
        self.file.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def run_tests(tests):
    """Runs each (name, function) in turn, TAP-like, and exits non-zero if one failed."""
    failed = 0
    for number, (name, func) in enumerate(tests, 1):
        start = time.monotonic()
        try:
            func()
        except Exception as error:  # noqa: BLE001 - report every failure, go on with the others
            failed += 1
            print("not ok %d - %s (%.2f s)\n  # %s: %s" % (number, name, time.monotonic() - start,
                                                           type(error).__name__, error), flush=True)
        else:
            print("ok %d - %s (%.2f s)" % (number, name, time.monotonic() - start), flush=True)
    print("1..%d" % len(tests))
    sys.exit(1 if failed else 0)
