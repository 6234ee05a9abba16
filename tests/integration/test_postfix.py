#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Interop: `postlab-cli send` (our SMTP client) against a real Postfix on a loopback port.

The test writes a Postfix configuration of its own in a temporary folder
(main.cf and master.cf, queue and data directories, a virtual Maildir for
bob@test.example, its own log file), starts it with `postfix -c CONF start`
on a free loopback port, and stops it at the end whatever happened. This
instance delivers only into that Maildir: mail for any other domain fails
at once (error transport), so it never touches the system's mail; the
system's own Postfix, if any, is neither read nor started.

It skips (exit 77) when Postfix is not installed (Debian: apt-get install
postfix; preseed postfix/main_mailer_type to "No configuration" so that the
package does not set up a system MTA on port 25) or when not run as root,
which Postfix's master needs.
"""

import base64
import email
import email.policy
import json
import os
import pwd
import grp
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from plserve import SKIP, check, check_equal, cli_from_argv, crlf, free_port, run_tests

CLI = cli_from_argv()

POSTFIX = shutil.which("postfix") or ("/usr/sbin/postfix" if os.access("/usr/sbin/postfix", os.X_OK) else None)
if POSTFIX is None:
    print("skipped: Postfix is not installed (Debian: apt-get install postfix, with "
          "postfix/main_mailer_type preseeded to 'No configuration'); this test needs a real MTA")
    sys.exit(SKIP)
if os.geteuid() != 0:
    print("skipped: Postfix's master process must be started as root, and this test runs as uid %d"
          % os.geteuid())
    sys.exit(SKIP)
for _name, _lookup in (("postfix", pwd.getpwnam), ("postdrop", grp.getgrnam)):
    try:
        _lookup(_name)
    except KeyError:
        print("skipped: Postfix is installed without its '%s' account (reinstall the package)" % _name)
        sys.exit(SKIP)

DOMAIN = "test.example"
BOB = "bob@" + DOMAIN
SIZE_LIMIT = 20000
# The headers Postfix puts in front of a message it delivers (trace fields, RFC 5321 4.4).
MTA_HEADERS = (b"return-path", b"x-original-to", b"delivered-to", b"received")


class Postfix:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="postlab-postfix-")
        # Postfix's daemons drop to the postfix user, and the virtual agent writes as nobody.
        os.chmod(self.tmp, 0o755)
        self.conf = os.path.join(self.tmp, "conf")
        self.queue = os.path.join(self.tmp, "queue")
        self.data = os.path.join(self.tmp, "data")
        self.vmail = os.path.join(self.tmp, "vmail")
        self.log = os.path.join(self.tmp, "maillog")
        self.maildir = os.path.join(self.vmail, "bob")
        self.port = free_port()
        self.started = False
        nobody = pwd.getpwnam("nobody")
        postfix = pwd.getpwnam("postfix")
        for folder in (self.conf, self.queue, self.data, self.vmail):
            os.makedirs(folder)
        os.chown(self.data, postfix.pw_uid, postfix.pw_gid)
        os.chown(self.vmail, nobody.pw_uid, nobody.pw_gid)
        self._write_config(nobody.pw_uid, nobody.pw_gid)

    def _write_config(self, uid, gid):
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write("""# Written by Postlab's test_postfix.py: one virtual mailbox, loopback only, no mail out.
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = {tmp}
maillog_file = {log}
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = mx.{domain}
mydomain = {domain}
myorigin = {domain}
mydestination =
# Not loopback: relaying for another domain is refused at RCPT (554 Relay access denied).
mynetworks = 192.0.2.1/32
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
relayhost =
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = {domain}
virtual_mailbox_base = {vmail}
virtual_mailbox_maps = inline:{{ {{{bob} = bob/}} }}
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 1
enable_original_recipient = no
# Whatever is not for the virtual domain fails here, so nothing ever leaves this instance.
default_transport = error:this test instance sends nothing out
relay_transport = error:this test instance sends nothing out
message_size_limit = {size}
smtpd_banner = $myhostname ESMTP Postfix (Postlab test)
biff = no
""".format(queue=self.queue, data=self.data, tmp=self.tmp, log=self.log, domain=DOMAIN,
           vmail=self.vmail, bob=BOB, uid=uid, gid=gid, size=SIZE_LIMIT))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write("""# Written by Postlab's test_postfix.py: smtpd on one loopback port, no chroot.
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
virtual   unix  - n n -  - virtual
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
""".format(port=self.port))

    def postfix(self, command, timeout=30):
        return subprocess.run([POSTFIX, "-c", self.conf, command], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=timeout)

    def log_text(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return "(no log)"

    def start(self):
        result = self.postfix("start")
        self.started = True
        check_equal(result.returncode, 0, "postfix start; output %r; log:\n%s"
                    % (result.stdout + result.stderr, self.log_text()))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as probe:
                    greeting = probe.recv(512)
                    if greeting.startswith(b"220 "):
                        probe.sendall(b"QUIT\r\n")
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("Postfix does not answer on port %d; log:\n%s" % (self.port, self.log_text()))

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        """`postfix stop`, then waits for the master to go; SIGKILL for a master that stays."""
        if not self.started:
            return
        pid = self.master_pid()
        try:
            self.postfix("stop")
        except subprocess.TimeoutExpired:
            pass
        if pid is not None:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.05)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.started = False

    def cleanup(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def delivered(self, count, timeout=15):
        """Waits until bob's Maildir holds @count messages; returns them (as stored), oldest first."""
        deadline = time.monotonic() + timeout
        found = []
        while time.monotonic() < deadline:
            found = []
            for sub in ("new", "cur"):
                folder = os.path.join(self.maildir, sub)
                if os.path.isdir(folder):
                    found += [os.path.join(folder, name) for name in os.listdir(folder)]
            if len(found) >= count:
                break
            time.sleep(0.05)
        check_equal(len(found), count, "messages in bob's Maildir; log:\n%s" % self.log_text())
        messages = []
        for path in sorted(found, key=os.path.getmtime):
            with open(path, "rb") as f:
                messages.append(f.read())
        return messages

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (the master's parent may not reap it) is gone for our purpose.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def send(*args, stdin=None, timeout=60):
    return subprocess.run([CLI, "send", *args], input=stdin, capture_output=True, timeout=timeout)


def sent_message(stdout):
    """The message as our client put it on the wire, from the JSON Lines: unstuffed, without the "." line."""
    data = [json.loads(line) for line in stdout.decode("utf-8").splitlines()]
    units = [base64.b64decode(e["b64"]) for e in data if e.get("type") == "event" and e.get("kind") == "data"]
    check_equal(len(units), 1, "message units sent")
    wire = units[0]
    check(wire.endswith(b"\r\n.\r\n"), "the message ends with CRLF . CRLF")
    lines = wire[:-3].split(b"\r\n")
    return b"\r\n".join(line[1:] if line.startswith(b".") else line for line in lines), data


def without_mta_headers(stored):
    """The stored message (LF line ends in a Maildir) with CRLF, minus the trace fields Postfix put in front."""
    message = crlf(stored)
    while True:
        name = message.split(b":", 1)[0].lower()
        if name not in MTA_HEADERS:
            return message
        # The field and its folded continuation lines (RFC 5322 2.2.3).
        end = message.index(b"\r\n")
        while message[end + 2:end + 3] in (b" ", b"\t"):
            end = message.index(b"\r\n", end + 2)
        message = message[end + 2:]


BODY = ("Bob,\n"
        ".a line that starts with a dot (stuffed on the wire, not in the mailbox)\n"
        "..and one with two\n"
        ".\n"
        "Grüße aus dem Labor: ünïcödé, €, 😀\n"
        + "x" * 998 + "\n"
        "\n"
        "the end, without a line end").encode("utf-8")


def test_arrives_byte_exact():
    with Postfix() as mta:
        mta.start()
        body = os.path.join(mta.tmp, "body.txt")
        with open(body, "wb") as f:
            f.write(BODY)
        subject = "Postfix interop: " + "a long subject to fold " * 5 + "— and not ASCII"
        result = send("--from", "alice@a.example", "--to", BOB, "--subject", subject,
                      "--body-file", body, "--server", "127.0.0.1:%d" % mta.port, "--json")
        check_equal(result.returncode, 0, "exit code; stderr %r" % result.stderr)
        message, lines = sent_message(result.stdout)
        recipients = [e for e in lines if e.get("type") == "recipient"]
        check_equal([(r["address"], r["verdict"], r["code"]) for r in recipients], [(BOB, "delivered", 250)],
                    "the recipient lines")
        commands = [e["text"] for e in lines if e.get("dir") == "C" and e.get("kind") == "command"]
        check("MAIL FROM:<alice@a.example> SIZE=%d BODY=8BITMIME" % len(message) in commands,
              "MAIL with SIZE= and BODY=8BITMIME (Postfix offers both): %r" % commands)

        stored = mta.delivered(1)[0]
        check(stored.startswith(b"Return-Path: <alice@a.example>\n"), stored[:200])
        check(b"Received: from " in stored and b"by mx.test.example (Postfix)" in stored, stored[:400])
        check_equal(without_mta_headers(stored), message, "the message in the Maildir, Postfix's headers taken off")

        # What we built: the fields, the 8-bit body, the dots as typed, a line end added at the end.
        for field in (b"From: alice@a.example\r\n", b"To: bob@test.example\r\n", b"Subject: =?UTF-8?B?",
                      b"\r\nDate: ", b"\r\nMessage-ID: <", b"@a.example>\r\n", b"MIME-Version: 1.0\r\n",
                      b"Content-Type: text/plain; charset=utf-8\r\n", b"Content-Transfer-Encoding: 8bit\r\n"):
            check(field in message, "the message lacks %r" % field)
        check(message.endswith(b"\r\n\r\n" + crlf(BODY) + b"\r\n"), "the body, CRLF, a last line end added")
        header = message.split(b"\r\n\r\n", 1)[0]
        check(all(len(line) <= 78 for line in header.split(b"\r\n")), "header lines folded at 78: %r" % header)
        # A mail reader gets the subject back (RFC 2047 encoded words, unfolded) and the body as text.
        parsed = email.message_from_bytes(stored, policy=email.policy.default)
        check_equal(str(parsed["Subject"]), subject, "the subject, decoded")
        check_equal(parsed.get_content(), BODY.decode("utf-8") + "\n", "the body, decoded")


def test_two_recipients_one_refused():
    with Postfix() as mta:
        mta.start()
        result = send("--from", "alice@a.example", "--to", "nobody@" + DOMAIN, "--to", BOB,
                      "--subject", "one of two", "--server", "127.0.0.1:%d" % mta.port)
        out = result.stdout.decode("utf-8", "replace")
        check_equal(result.returncode, 1, "exit code when one recipient is refused; out:\n%s" % out)
        check("S: 550 5.1.1 <nobody@test.example>: Recipient address rejected" in out, out)
        check("* nobody@test.example: refused: 550 5.1.1" in out, out)
        check("* bob@test.example: accepted (250 2.0.0 Ok: queued as " in out, out)
        check(b"550" in result.stderr, "stderr names the refusal: %r" % result.stderr)
        stored = mta.delivered(1)[0]
        check(b"Subject: one of two\n" in stored, stored)


def test_all_refused():
    with Postfix() as mta:
        mta.start()
        # Unknown user of the domain; then a foreign domain from a client outside mynetworks.
        for rcpt, reply in (("nobody@" + DOMAIN, "550 5.1.1"), ("carol@elsewhere.example", "554 5.7.1")):
            result = send("--from", "alice@a.example", "--to", rcpt, "--server", "127.0.0.1:%d" % mta.port)
            out = result.stdout.decode("utf-8", "replace")
            check_equal(result.returncode, 1, "exit code for %s; out:\n%s" % (rcpt, out))
            check("S: %s" % reply in out, "%s: %s" % (rcpt, out))
            check("* %s: refused: %s" % (rcpt, reply) in out, out)
            check("C: QUIT" in out and "S: 221" in out, "the session ends with QUIT: %s" % out)
        time.sleep(0.5)
        check_equal(mta.delivered(0), [], "nothing delivered")


def test_client_side_refusals():
    with Postfix() as mta:
        mta.start()
        # Postfix advertises SIZE 20000: a larger message is not even offered (RFC 1870 6.1).
        result = send("--from", "alice@a.example", "--to", BOB, "--body-file", "-",
                      "--server", "127.0.0.1:%d" % mta.port, stdin=(b"y" * 99 + b"\n") * 300)
        out = result.stdout.decode("utf-8", "replace")
        check_equal(result.returncode, 1, "exit code over SIZE; out:\n%s" % out)
        check("S: 250-SIZE %d" % SIZE_LIMIT in out, out)
        check("C: MAIL" not in out and "C: QUIT" in out, "nothing offered: %s" % out)
        check("over the server's limit of %d (SIZE)" % SIZE_LIMIT in out, out)
        # This Postfix has no SASL: --auth cannot be honoured, and nothing is sent without it.
        result = send("--from", "alice@a.example", "--to", BOB, "--auth", "alice:secret",
                      "--server", "127.0.0.1:%d" % mta.port)
        out = result.stdout.decode("utf-8", "replace")
        check_equal(result.returncode, 1, "exit code without AUTH; out:\n%s" % out)
        check("C: MAIL" not in out and "C: AUTH" not in out, out)
        check("does not offer AUTH" in out, out)
        check_equal(mta.delivered(0), [], "nothing delivered")


def test_stdin_and_stopped_mta():
    with Postfix() as mta:
        mta.start()
        result = send("--from", "alice@a.example", "--to", BOB, "--body-file", "-",
                      "--server", "127.0.0.1:%d" % mta.port, stdin=b"from stdin\nbare LF lines\n")
        check_equal(result.returncode, 0, "exit code; stderr %r" % result.stderr)
        stored = mta.delivered(1)[0]
        check(stored.endswith(b"\n\nfrom stdin\nbare LF lines\n"), stored)
        mta.stop()
        result = send("--from", "alice@a.example", "--to", BOB, "--server", "127.0.0.1:%d" % mta.port)
        check_equal(result.returncode, 2, "exit code once Postfix is stopped")
        check(b"Cannot connect to 127.0.0.1 port %d" % mta.port in result.stderr, result.stderr)


run_tests([
    ("our message arrives in Postfix's Maildir byte-exact", test_arrives_byte_exact),
    ("two recipients, one unknown: 550 for it, the other delivered, exit 1", test_two_recipients_one_refused),
    ("every recipient refused (550 unknown, 554 relay denied): exit 1", test_all_refused),
    ("over Postfix's SIZE, or --auth without AUTH offered: not sent, exit 1", test_client_side_refusals),
    ("--body-file - with LF line ends; a stopped Postfix: exit 2", test_stdin_and_stopped_mta),
])
