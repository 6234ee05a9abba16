#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Interop: `postlab-cli fetch` (our POP3 client) against a real Dovecot on a loopback port.

The test writes a dovecot.conf of its own in a temporary folder (runtime files,
log, a passwd-file with one user, a Maildir), starts `dovecot -F -c CONF`, and
stops it at the end. It skips (exit 77) when Dovecot's POP3 server is not
installed (Debian: apt-get install dovecot-pop3d).
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from plserve import SKIP, check, check_equal, cli_from_argv, crlf, free_port, run_tests

CLI = cli_from_argv()

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None)
if DOVECOT is None:
    print("skipped: Dovecot is not installed (Debian: apt-get install dovecot-pop3d); "
          "this test needs a real POP3 server to fetch from")
    sys.exit(SKIP)
if not os.path.exists("/usr/lib/dovecot/pop3") and not shutil.which("doveconf"):
    print("skipped: Dovecot is installed without its POP3 server (apt-get install dovecot-pop3d)")
    sys.exit(SKIP)

USER = "alice"
# Dovecot's passwd-file splits at ":", so no colon; "@", " " and "%" need percent-encoding in the URL.
PASSWORD = "s3cret@odd chars%"

# Two messages as a Maildir holds them (LF line ends); POP3 sends them with CRLF.
# The first has lines starting with '.' (dot-stuffing both ways); the second is
# 8-bit, with a long line and an empty last line.
MESSAGES = [
    b"From: Bob <bob@b.example>\n"
    b"To: Alice <alice@a.example>\n"
    b"Subject: Dots\n"
    b"Message-ID: <dots@b.example>\n"
    b"\n"
    b"A line of its own:\n"
    b".\n"
    b"..two dots\n"
    b". one dot and a space\n"
    b"The end.\n",
    b"From: Bob <bob@b.example>\n"
    b"To: Alice <alice@a.example>\n"
    b"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\n"
    b"Message-ID: <long@b.example>\n"
    b"MIME-Version: 1.0\n"
    b"Content-Type: text/plain; charset=utf-8\n"
    b"Content-Transfer-Encoding: 8bit\n"
    b"\n"
    b"Gr\xc3\xbc\xc3\x9fe aus dem Labor.\n"
    + b"x" * 900 + b"\n"
    b"\n",
]


class Dovecot:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="postlab-dovecot-")
        # Dovecot's unprivileged helpers must reach their sockets under base_dir.
        os.chmod(self.tmp, 0o755)
        self.port = free_port()
        self.maildir = os.path.join(self.tmp, "home", USER, "Maildir")
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(self.maildir, sub))
        self.conf = os.path.join(self.tmp, "dovecot.conf")
        self.log = os.path.join(self.tmp, "dovecot.log")
        self.proc = None
        self._write_config()

    def _write_config(self):
        uid, gid = os.getuid(), os.getgid()
        user = pwd.getpwuid(uid).pw_name
        with open(os.path.join(self.tmp, "passwd"), "w") as f:
            f.write("%s:{PLAIN}%s\n" % (USER, PASSWORD))
        if uid == 0:
            # Dovecot never accesses mail as root ("userdb returned 0 as uid"): as root, the
            # mail belongs to an unprivileged user, and its helpers run as Dovecot's own users.
            mail_user = pwd.getpwnam("nobody" if _user_exists("nobody") else "dovenull")
            uid, gid = mail_user.pw_uid, mail_user.pw_gid
            for folder, _subdirs, files in os.walk(os.path.join(self.tmp, "home")):
                os.chown(folder, uid, gid)
                for name in files:
                    os.chown(os.path.join(folder, name), uid, gid)
            login_user = "dovenull" if _user_exists("dovenull") else "nobody"
            internal_user = "dovecot" if _user_exists("dovecot") else "nobody"
            privileges = ("first_valid_uid = %d\nfirst_valid_gid = %d\n"
                          "default_login_user = %s\ndefault_internal_user = %s\n"
                          % (min(uid, 100), min(gid, 100), login_user, internal_user))
            login_chroot = ""
        else:
            # As an ordinary user everything runs as that user, without chroot.
            privileges = ("first_valid_uid = %d\nfirst_valid_gid = %d\n"
                          "default_login_user = %s\ndefault_internal_user = %s\n"
                          % (uid, gid, user, user))
            login_chroot = "  chroot =\n"
        self.mail_uid, self.mail_gid = uid, gid
        with open(self.conf, "w") as f:
            f.write("""# Written by Postlab's test_dovecot.py: POP3 only, loopback only, plain text.
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {log}
info_log_path = {log}
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0
{privileges}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {tmp}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={tmp}/home/%u
}}
mail_location = maildir:~/Maildir
service pop3-login {{
{login_chroot}  inet_listener pop3 {{
    address = 127.0.0.1
    port = {port}
  }}
}}
service anvil {{
  chroot =
}}
""".format(tmp=self.tmp, log=self.log, privileges=privileges, uid=uid, gid=gid,
           login_chroot=login_chroot, port=self.port))

    def deliver(self, messages):
        for number, message in enumerate(messages, 1):
            name = "%d.M%dP%d.postlab-test,S=%d" % (1700000000 + number, number, os.getpid(), len(message))
            path = os.path.join(self.maildir, "new", name)
            with open(path, "wb") as f:
                f.write(message)
            os.chown(path, self.mail_uid, self.mail_gid)

    def messages(self):
        found = []
        for sub in ("new", "cur"):
            for name in sorted(os.listdir(os.path.join(self.maildir, sub))):
                with open(os.path.join(self.maildir, sub, name), "rb") as f:
                    found.append(f.read())
        return found

    def start(self):
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("dovecot exited with %d: %s\nlog: %s" % (
                    self.proc.returncode, self.proc.stdout.read().decode("utf-8", "replace"), self.read_log()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as probe:
                    probe.settimeout(5)
                    if probe.recv(128).startswith(b"+OK"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("dovecot did not answer on port %d; log: %s" % (self.port, self.read_log()))

    def read_log(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return "(no log)"

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.proc.stdout.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def fetch(dovecot, *args, password=PASSWORD):
    from urllib.parse import quote
    url = "pop3://%s:%s@127.0.0.1:%d" % (quote(USER, safe=""), quote(password, safe=""), dovecot.port)
    return subprocess.run([CLI, "fetch", url, *args], capture_output=True, timeout=60)


dovecot = Dovecot()


def test_fetch_keeps():
    save = os.path.join(dovecot.tmp, "saved")
    result = fetch(dovecot, "--save", save)
    out = result.stdout.decode("utf-8", "replace")
    check_equal(result.returncode, 0, "fetch exit code; stderr %r\n%s\nlog: %s"
                % (result.stderr, out, dovecot.read_log()))
    check("S: +OK" in out and "C: USER %s" % USER in out and "C: RETR 2" in out, out)
    check("* 2 messages retrieved" in out, out)
    for number, message in enumerate(MESSAGES, 1):
        with open(os.path.join(save, "%d.eml" % number), "rb") as f:
            check_equal(f.read(), crlf(message), "message %d from Dovecot" % number)
    check_equal(len(dovecot.messages()), 2, "Dovecot's Maildir after fetch without --delete")


def test_fetch_json():
    import json
    result = fetch(dovecot, "--json")
    check_equal(result.returncode, 0, "fetch --json exit code; stderr %r" % result.stderr)
    objects = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    check_equal(objects[0]["type"], "session", "first JSON line")
    check_equal(objects[0]["server"], "127.0.0.1:%d" % dovecot.port, "server endpoint")
    check_equal(objects[-1]["type"], "end", "last JSON line")
    verbs = [o.get("verb") for o in objects if o.get("dir") == "C"]
    check_equal(verbs, ["USER", "PASS", "LIST", "RETR", "RETR", "QUIT"], "commands")


def test_wrong_password():
    result = fetch(dovecot, password="wrong")
    check_equal(result.returncode, 1, "exit code for Dovecot's -ERR; stderr %r" % result.stderr)
    check(b"-ERR" in result.stderr, result.stderr)


def test_fetch_delete():
    save = os.path.join(dovecot.tmp, "deleted")
    result = fetch(dovecot, "--delete", "--save", save)
    out = result.stdout.decode("utf-8", "replace")
    check_equal(result.returncode, 0, "fetch --delete exit code; stderr %r\n%s" % (result.stderr, out))
    check("C: DELE 1" in out and "C: DELE 2" in out, out)
    for number, message in enumerate(MESSAGES, 1):
        with open(os.path.join(save, "%d.eml" % number), "rb") as f:
            check_equal(f.read(), crlf(message), "message %d from Dovecot (with --delete)" % number)
    check_equal(dovecot.messages(), [], "Dovecot's Maildir after fetch --delete")
    result = fetch(dovecot)
    check_equal(result.returncode, 0, "fetch of the empty maildrop")
    check("* 0 messages retrieved" in result.stdout.decode(), result.stdout)


def main():
    try:
        dovecot.deliver(MESSAGES)
        dovecot.start()
        run_tests([
            ("fetch from Dovecot, byte-exact, messages kept", test_fetch_keeps),
            ("fetch --json from Dovecot", test_fetch_json),
            ("fetch --delete from Dovecot removes the messages", test_fetch_delete),
            # Last: Dovecot slows down later logins from an address that failed one.
            ("a wrong password: Dovecot's -ERR, exit 1", test_wrong_password),
        ])
    finally:
        dovecot.stop()


main()
