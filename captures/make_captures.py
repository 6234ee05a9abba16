#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Makes the sample captures of this folder: `postlab-cli serve` (and Dovecot for IMAP, and a
tiny HTTP server) on free loopback ports, real clients talking to them, tcpdump on `lo` (or
`any`) writing what it sees. Run it through make-captures.sh, as root (tcpdump needs it).

    python3 make_captures.py POSTLAB-CLI OUT-DIR [NAME...]

With NAMEs (file names without extension) only those captures are made again. Each capture
is filtered to the ports of its own servers, so other traffic on the machine stays out."""

import http.server
import imaplib
import os
import poplib
import random
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # no __pycache__ among the captures
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from pldovecot import Dovecot  # noqa: E402
from plserve import Server, free_port  # noqa: E402

import reorder_segments  # noqa: E402

CLI = None
# The name the clients give themselves (EHLO, Message-ID), so no capture names this machine.
CLIENT_NAME = "alice-laptop.a.example"

# Alice's note to Bob, with lines that start with a dot: the client doubles them on the wire
# (RFC 5321 section 4.5.2) and the transcript shows them once.
LUNCH = (
    "Date: Mon, 14 Apr 2025 11:29:45 +0000\r\n"
    "From: Alice <alice@a.example>\r\n"
    "To: Bob <bob@b.example>\r\n"
    "Subject: Lunch plan, step by step\r\n"
    "Message-ID: <20250414112945.4712@a.example>\r\n"
    "\r\n"
    "Hi Bob,\r\n"
    "\r\n"
    "I booked a table at the noodle bar, 12:00.\r\n"
    "\r\n"
    "1. You leave the lab at 11:50, walk over.\r\n"
    "2. I order dumplings as I sit down.\r\n"
    "... and that line starts with a dot: SMTP sends it with one\r\n"
    "more dot in front, and the server takes it away again.\r\n"
    ".\r\n"
    "(the line above is a single dot, which would have ended the message)\r\n"
    "\r\n"
    "Alice\r\n"
)

RECIPE = (
    "Date: Tue, 15 Apr 2025 08:02:11 +0000\r\n"
    "From: Alice <alice@a.example>\r\n"
    "To: Bob <bob@b.example>\r\n"
    "Subject: The dumpling recipe\r\n"
    "Message-ID: <20250415080211.5120@a.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Bob, as promised: the filling.\r\n"
    "\r\n"
    "- 300 g minced pork, or tofu for a vegetarian batch\r\n"
    "- 2 spring onions, a thumb of ginger, 1 tbsp soy sauce\r\n"
    "- 1 tsp sesame oil, white pepper\r\n"
    "\r\n"
    "Fold, pleat, steam 12 minutes. Gr\u00fc\u00dfe aus der K\u00fcche!\r\n"
    "\r\n"
    "Alice\r\n"
)


def log(text):
    print("make-captures: %s" % text, flush=True)


class Tcpdump:
    """tcpdump writing @path while the `with` block runs; stopped with SIGINT, as Ctrl-C."""

    def __init__(self, path, ports, interface="lo", extra=()):
        self.path = path
        expression = " or ".join("tcp port %d" % p for p in ports)
        # -Z root: keep the right to write @path (tcpdump otherwise drops to its own user).
        self.argv = ["tcpdump", "-i", interface, "-w", path, "-U", "--immediate-mode", "-Z", "root",
                     *extra, expression]

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        said = ""
        while "listening on" not in said:
            line = self.proc.stderr.readline().decode(errors="replace")
            if not line:
                self.proc.wait()
                raise RuntimeError("tcpdump did not start: %s" % said)
            said += line
        return self

    def __exit__(self, *exc):
        # The last FIN and ACK are on the wire a moment after the clients return.
        time.sleep(0.5)
        self.proc.send_signal(signal.SIGINT)
        self.proc.communicate(timeout=10)
        return False


def serve(**kwargs):
    server = Server(CLI, auth_delay=0, **kwargs)
    log("serve: SMTP %d (a.example), %d (b.example), POP3 %d (b.example)"
        % (server.smtp_a, server.smtp_b, server.port))
    return server


def wait_until(condition, what, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for %s" % what)


def run(argv, **kwargs):
    result = subprocess.run(argv, capture_output=True, timeout=60, **kwargs)
    if result.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (" ".join(argv), result.returncode,
                                                     result.stdout.decode(errors="replace"),
                                                     result.stderr.decode(errors="replace")))
    return result


# ------------------------------------------------------------------------------------------
# The captures. Each takes the path to write and makes it.

def pop3_textbook(path):
    """The textbook's POP3 session, typed by `postlab-cli textbook` against serve."""
    with serve() as server:
        with Tcpdump(path, [server.port]):
            run([CLI, "textbook", "127.0.0.1:%d" % server.port])
        server.stop()


def smtp_pipelining(path):
    """swaks submits to mail.a.example with AUTH PLAIN and PIPELINING (MAIL, RCPT and DATA in
    one segment); mail.a.example relays to mail.b.example, its client pipelining too."""
    with serve() as server:
        relayed = lambda: len(server.messages_on_disk("bob")) == 3 and not server.queue_files()  # noqa: E731
        with tempfile.NamedTemporaryFile("w", suffix=".eml", newline="") as message:
            message.write(LUNCH)
            message.flush()
            os.chmod(message.name, 0o644)
            with Tcpdump(path, [server.smtp_a, server.smtp_b]):
                run(["swaks", "--hide-all", "--server", "127.0.0.1:%d" % server.smtp_a,
                     "--helo", CLIENT_NAME, "--pipeline",
                     "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "crepes",
                     "--from", "alice@a.example", "--to", "bob@b.example", "--data", message.name])
                wait_until(relayed, "the relay to mail.b.example")
        server.stop()


def smtplib_session(path, interface="lo", extra=()):
    """Python's smtplib hands a message with dot-led lines straight to mail.b.example."""
    with serve() as server:
        with Tcpdump(path, [server.smtp_b], interface=interface, extra=extra):
            with smtplib.SMTP("127.0.0.1", server.smtp_b, local_hostname=CLIENT_NAME, timeout=10) as client:
                client.sendmail("alice@a.example", ["bob@b.example"], LUNCH.encode())
        server.stop()


def smtp_smtplib(path):
    smtplib_session(path)


def smtp_reordered(path):
    """smtp-smtplib's session again, its segments rewritten out of order, twice and overlapping."""
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "plain.pcap")
        smtplib_session(plain)
        header, scale, records = reorder_segments.read_pcap(plain)
        reorder_segments.write_pcap(path, header, scale, reorder_segments.rewrite(records, scale // 1000000))


def smtp_curl_any(path):
    """curl uploads a message by SMTP, captured on the `any` pseudo-interface: link type
    LINUX_SLL2 (Linux cooked capture v2), whose header names the interface and the direction."""
    with serve() as server:
        with tempfile.NamedTemporaryFile("w", suffix=".eml", newline="") as message:
            message.write(RECIPE)
            message.flush()
            with Tcpdump(path, [server.smtp_b], interface="any", extra=["-y", "LINUX_SLL2"]):
                run(["curl", "-sS", "smtp://127.0.0.1:%d/%s" % (server.smtp_b, CLIENT_NAME),
                     "--mail-from", "alice@a.example", "--mail-rcpt", "bob@b.example", "-T", message.name])
        server.stop()


def pop3_curl(path):
    """curl lists Bob's mailbox and retrieves message 1, one POP3 connection for both, written
    as pcapng (tcpdump writes pcap; editcap turns it into pcapng)."""
    with serve() as server, tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "plain.pcap")
        base = "pop3://127.0.0.1:%d" % server.port
        with Tcpdump(plain, [server.port]):
            run(["curl", "-sS", "-u", "bob:hungry", base + "/", "-o", "/dev/null", base + "/1", "-o", "/dev/null"])
        server.stop()
        run(["editcap", "-F", "pcapng", plain, path])


def pop3_ipv6(path):
    """Python's poplib over IPv6 (::1): STAT, LIST, UIDL, TOP, RETR, QUIT."""
    with serve() as server:
        with Tcpdump(path, [server.port]):
            client = poplib.POP3("::1", server.port, timeout=10)
            client.user("bob")
            client.pass_("hungry")
            client.stat()
            client.list()
            client.uidl()
            client.top(1, 3)
            client.retr(2)
            client.quit()
        server.stop()


def pop3_snaplen96(path):
    """poplib retrieves both messages, captured with a snaplen of 96: tcpdump keeps the first
    96 octets of each packet, so most of what the server says is missing from the capture."""
    with serve() as server:
        with Tcpdump(path, [server.port], extra=["-s", "96"]):
            client = poplib.POP3("127.0.0.1", server.port, timeout=10)
            client.user("bob")
            client.pass_("hungry")
            client.list()
            client.retr(1)
            client.retr(2)
            client.quit()
        server.stop()


class WebmailHandler(http.server.BaseHTTPRequestHandler):
    """A tiny webmail on loopback: a JSON inbox (Content-Length), a message sent chunked, a POST."""
    protocol_version = "HTTP/1.1"
    server_version = "PostlabSample/1.0"

    def version_string(self):
        return self.server_version   # not the machine's Python version

    def log_message(self, *args):
        pass

    def send_body(self, code, content_type, body):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/inbox.json":
            self.send_body(200, "application/json",
                           b'{"folder":"INBOX","messages":[{"id":1,"from":"alice@a.example",'
                           b'"subject":"Lunch plan, step by step","size":912}]}')
        elif self.path == "/message/1":
            # RFC 9112 section 7.1: the body in chunks, each preceded by its size in hex.
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            lines = LUNCH.encode().split(b"\r\n\r\n", 1)[1].split(b"\r\n")
            for i in range(0, len(lines), 5):
                chunk = b"\r\n".join(lines[i:i + 5]) + b"\r\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_body(404, "text/plain", b"no such page\n")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        self.send_body(201, "application/json", b'{"queued":true,"via":"smtp"}')


def http_webmail(path):
    """curl on one keep-alive connection: GET a JSON inbox, GET a chunked message, POST a reply."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), WebmailHandler)
    port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = "http://127.0.0.1:%d" % port
    try:
        with Tcpdump(path, [port]):
            run(["curl", "-sS", "--http1.1", "-H", "User-Agent: postlab-sample",
                 base + "/inbox.json", "-o", "/dev/null", base + "/message/1", "-o", "/dev/null",
                 "--next", "-sS", "--http1.1", "-H", "User-Agent: postlab-sample",
                 "--data", "to=alice%40a.example&subject=Re%3A+Lunch&body=See+you+at+noon",
                 base + "/send", "-o", "/dev/null"])
    finally:
        httpd.shutdown()
        httpd.server_close()


def imap_exchange(sock, data, tag):
    """Sends @data, reads until the completion tagged @tag."""
    sock.sendall(data)
    got = b""
    while not any(line.startswith(tag + b" ") for line in got.split(b"\r\n")):
        more = sock.recv(65536)
        if not more:
            raise RuntimeError("IMAP server closed the connection: %r" % got)
        got += more
    return got


def imap_literals(path):
    """Python's imaplib against Dovecot: LOGIN, SELECT, APPEND (a synchronising literal: the
    client waits for '+'), FETCH of a whole message (a literal from the server), SEARCH with a
    literal, STORE, LOGOUT. Then a raw client that sends non-synchronising literals (RFC 7888
    LITERAL+, {n+}) and fetches a partial body."""
    with tempfile.TemporaryDirectory(prefix="postlab-imap-") as tmp:
        dovecot = Dovecot("imap", "bob", "hungry", tmp)
        dovecot.deliver([message.replace("\r\n", "\n").encode() for message in (LUNCH, RECIPE)],
                        ["%d.M%d.postlab-sample" % (1744630000 + number, number) for number in (1, 2)])
        with dovecot:
            log("dovecot: IMAP on %d" % dovecot.port)
            with Tcpdump(path, [dovecot.port]):
                random.seed(5)   # imaplib's tag prefix is random: the same one every time
                client = imaplib.IMAP4("127.0.0.1", dovecot.port, timeout=10)
                client.login("bob", "hungry")
                client.select("INBOX")
                client.append("INBOX", "(\\Seen)", None, RECIPE.replace("The dumpling recipe", "Re: dumplings").encode())
                client.fetch("1:*", "(FLAGS RFC822.SIZE)")
                client.fetch("1", "(BODY[])")
                client.literal = "K\u00fcche".encode()
                client.search("UTF-8", "BODY")
                client.store("2", "+FLAGS", "(\\Seen)")
                client.logout()

                with socket.create_connection(("127.0.0.1", dovecot.port), timeout=10) as raw:
                    greeting = raw.recv(4096)
                    if not greeting.startswith(b"* OK"):
                        raise RuntimeError("no IMAP greeting: %r" % greeting)
                    imap_exchange(raw, b"a1 LOGIN {3+}\r\nbob {6+}\r\nhungry\r\n", b"a1")
                    imap_exchange(raw, b"a2 EXAMINE INBOX\r\n", b"a2")
                    imap_exchange(raw, b"a3 FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT]<0.40>)\r\n", b"a3")
                    imap_exchange(raw, b"a4 LOGOUT\r\n", b"a4")


CAPTURES = [
    ("pop3-textbook.pcap", pop3_textbook),
    ("smtp-pipelining.pcap", smtp_pipelining),
    ("smtp-smtplib.pcap", smtp_smtplib),
    ("smtp-reordered.pcap", smtp_reordered),
    ("smtp-curl-any.pcap", smtp_curl_any),
    ("pop3-curl.pcapng", pop3_curl),
    ("pop3-ipv6.pcap", pop3_ipv6),
    ("pop3-snaplen96.pcap", pop3_snaplen96),
    ("http-webmail.pcap", http_webmail),
    ("imap-literals.pcap", imap_literals),
]


def main():
    global CLI
    if len(sys.argv) < 3:
        sys.exit("usage: %s POSTLAB-CLI OUT-DIR [NAME...]" % sys.argv[0])
    CLI = os.path.abspath(sys.argv[1])
    out = sys.argv[2]
    wanted = set(sys.argv[3:])
    names = {f.rsplit(".", 1)[0] for f, _ in CAPTURES}
    unknown = wanted - names
    if unknown:
        sys.exit("make-captures: no capture named %s (there are: %s)" % (", ".join(sorted(unknown)),
                                                                       ", ".join(sorted(names))))
    for name, make in CAPTURES:
        if wanted and name.rsplit(".", 1)[0] not in wanted:
            continue
        path = os.path.join(out, name)
        # tcpdump writes a new file; a capture that fails leaves the old one in place.
        tmp = path + ".part"
        try:
            make(tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        log("%s: %d octets" % (name, os.path.getsize(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
