#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Interop: `postlab-cli fetch` (our POP3 client) against a real Dovecot on a loopback port.

The test writes a dovecot.conf of its own in a temporary folder (runtime files,
log, a passwd-file with one user, a Maildir), starts `dovecot -F -c CONF`, and
stops it at the end. It skips (exit 77) when Dovecot's POP3 server is not
installed (Debian: apt-get install dovecot-pop3d).
"""

import os
import shutil
import subprocess
import sys

from pldovecot import DOVECOT, Dovecot
from plserve import SKIP, check, check_equal, cli_from_argv, crlf, run_tests

CLI = cli_from_argv()

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


def fetch(dovecot, *args, password=PASSWORD):
    from urllib.parse import quote
    url = "pop3://%s:%s@127.0.0.1:%d" % (quote(USER, safe=""), quote(password, safe=""), dovecot.port)
    return subprocess.run([CLI, "fetch", url, *args], capture_output=True, timeout=60)


dovecot = Dovecot("pop3", USER, PASSWORD)


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
        dovecot.deliver(MESSAGES, ["%d.M%dP%d.postlab-test,S=%d" % (1700000000 + number, number, os.getpid(), len(message))
                                   for number, message in enumerate(MESSAGES, 1)])
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
