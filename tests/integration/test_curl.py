#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""curl's POP3 client (LIST and RETR) against `postlab-cli serve`."""

import shutil
import subprocess
import sys

from plserve import SKIP, Server, check, check_equal, cli_from_argv, run_tests

CLI = cli_from_argv()
CURL = shutil.which("curl")
if CURL is None:
    print("skipped: curl is not installed (apt-get install curl)")
    sys.exit(SKIP)


def curl(*args):
    return subprocess.run([CURL, "--silent", "--show-error", "--max-time", "20", *args],
                          capture_output=True, timeout=30)


def test_list_and_retr():
    with Server(CLI) as server:
        m1, m2 = server.textbook_messages()
        base = "pop3://bob:hungry@127.0.0.1:%d/" % server.port

        result = curl(base)
        check_equal(result.returncode, 0, "curl LIST exit code; stderr %r" % result.stderr)
        check_equal(result.stdout, b"1 498\r\n2 912\r\n", "curl LIST output")

        result = curl(base + "1")
        check_equal(result.returncode, 0, "curl RETR 1 exit code; stderr %r" % result.stderr)
        check_equal(result.stdout, m1, "curl RETR 1 output")

        # Message 2 holds a line starting with '.': curl must get it back un-stuffed.
        result = curl(base + "2")
        check_equal(result.returncode, 0, "curl RETR 2 exit code; stderr %r" % result.stderr)
        check_equal(result.stdout, m2, "curl RETR 2 output")

        # curl neither deletes nor changes anything.
        check_equal(server.messages_on_disk(), [m1, m2], "the Maildir after curl")
        server.stop()


def test_verbose_dialogue():
    with Server(CLI) as server:
        url = "pop3://bob:hungry@127.0.0.1:%d/1" % server.port
        # By default curl reads CAPA and logs in with SASL PLAIN (RFC 5034) ...
        result = curl("--verbose", url)
        check_equal(result.returncode, 0, "curl exit code")
        err = result.stderr.decode("utf-8", "replace")
        for expected in ("< +OK POP3 server ready", "> CAPA", "> AUTH PLAIN",
                         "< +OK user successfully logged on", "> RETR 1", "< +OK 498 octets"):
            check(expected in err, "curl -v lacks %r:\n%s" % (expected, err))
        # ... or, with --sasl-ir, with the initial response on the AUTH line itself (RFC 4954 style).
        result = curl("--verbose", "--sasl-ir", url)
        check_equal(result.returncode, 0, "curl exit code with --sasl-ir")
        err = result.stderr.decode("utf-8", "replace")
        for expected in ("> AUTH PLAIN AGJvYgBodW5ncnk=", "< +OK user successfully logged on", "> RETR 1"):
            check(expected in err, "curl -v --sasl-ir lacks %r:\n%s" % (expected, err))
        server.stop()


def test_missing_message_and_wrong_password():
    with Server(CLI) as server:
        result = curl("pop3://bob:hungry@127.0.0.1:%d/3" % server.port)
        check(result.returncode != 0, "RETR 3 of a 2-message maildrop must fail")
        result = curl("pop3://bob:wrong@127.0.0.1:%d/" % server.port)
        check_equal(result.returncode, 67, "curl's 'login denied' exit code")
        server.stop()


run_tests([
    ("curl LIST and RETR", test_list_and_retr),
    ("curl -v shows the dialogue", test_verbose_dialogue),
    ("curl: missing message, wrong password", test_missing_message_and_wrong_password),
])
