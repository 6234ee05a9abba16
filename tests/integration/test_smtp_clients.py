#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real SMTP clients against `postlab-cli serve`: python's smtplib, a pipelining raw socket, curl and swaks."""

import os
import shutil
import smtplib
import subprocess

from plserve import SKIP, Server, check, check_equal, cli_from_argv, crlf, run_tests
from plsmtp import SmtpRaw, message, wait_for

CLI = cli_from_argv()
CURL = shutil.which("curl")
SWAKS = shutil.which("swaks")

ALICE = ("alice", "crepes")


def bob_messages(server, count, timeout=10):
    """Waits until bob's Maildir holds @count messages besides the textbook's two; returns the new ones."""
    def new_ones():
        messages = [m for m in server.messages_on_disk("bob") if b"Received: " in m]
        return messages if len(messages) >= count else None
    if count == 0:
        return [m for m in server.messages_on_disk("bob") if b"Received: " in m]
    return wait_for(new_ones, timeout=timeout, what="%d new message(s) in bob's Maildir" % count)


def test_ehlo_extensions():
    with Server(CLI) as server:
        for port, name in ((server.smtp_a, "mail.a.example"), (server.smtp_b, "mail.b.example")):
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                code, text = client.ehlo("client.example")
                check_equal(code, 250, "EHLO on %s" % name)
                check(text.decode().startswith(name), "the EHLO reply names %s: %r" % (name, text))
                features = client.esmtp_features
                check("size" in features and int(features["size"]) > 0, "SIZE with a limit: %r" % features)
                for keyword in ("pipelining", "8bitmime"):
                    check(keyword in features, "%s lacks %s: %r" % (name, keyword, features))
                if port == server.smtp_a:
                    mechanisms = features.get("auth", "").upper().split()
                    check("PLAIN" in mechanisms and "LOGIN" in mechanisms, "AUTH PLAIN LOGIN: %r" % features)
                check_equal(client.noop()[0], 250, "NOOP")
        server.stop()


def test_two_recipients_one_unknown():
    with Server(CLI) as server:
        # The receiving server: bob is delivered at once, nobody is refused at RCPT.
        with smtplib.SMTP("127.0.0.1", server.smtp_b, timeout=10) as client:
            refused = client.sendmail("alice@a.example", ["nobody@b.example", "bob@b.example"],
                                      message("Two recipients", to="bob@b.example, nobody@b.example"))
        check_equal(list(refused), ["nobody@b.example"], "the refused recipients")
        check_equal(refused["nobody@b.example"][0], 550, "the code for the unknown user")
        stored = bob_messages(server, 1)[0]
        check(b"Subject: Two recipients\r\n" in stored, stored)
        check(b"by mail.b.example" in stored, "a Received: header naming mail.b.example: %r" % stored[:300])

        # The sending server: an unknown user of its own domain is refused; bob@b.example is relayed.
        with smtplib.SMTP("127.0.0.1", server.smtp_a, timeout=10) as client:
            refused = client.sendmail("alice@a.example", ["bob@b.example", "nobody@a.example"],
                                      message("Relayed one of two"))
        check_equal(list(refused), ["nobody@a.example"], "refused by mail.a.example")
        check_equal(refused["nobody@a.example"][0], 550, "the code for the unknown local user")
        stored = [m for m in bob_messages(server, 2) if b"Relayed one of two" in m]
        check_equal(len(stored), 1, "the relayed message, once")
        check(b"by mail.a.example" in stored[0] and b"by mail.b.example" in stored[0],
              "two Received: headers naming both servers: %r" % stored[0][:600])

        # Everybody refused: sendmail raises, and nothing is delivered.
        with smtplib.SMTP("127.0.0.1", server.smtp_b, timeout=10) as client:
            try:
                client.sendmail("alice@a.example", ["nobody@b.example"], message("Nobody"))
            except smtplib.SMTPRecipientsRefused as error:
                check_equal(error.recipients["nobody@b.example"][0], 550, "code")
            else:
                raise AssertionError("sendmail to an unknown user alone did not raise")
        check_equal(len(bob_messages(server, 0)), 2, "nothing more delivered")
        server.stop()


def test_auth_plain_and_login():
    with Server(CLI) as server:
        forms = (
            ("PLAIN", lambda c: c.auth("PLAIN", c.auth_plain)),
            ("LOGIN with initial response", lambda c: c.auth("LOGIN", c.auth_login)),
            ("LOGIN with two challenges", lambda c: c.auth("LOGIN", c.auth_login, initial_response_ok=False)),
            ("smtplib.login's choice", lambda c: c.login(*ALICE)),
        )
        for number, (name, login) in enumerate(forms):
            with smtplib.SMTP("127.0.0.1", server.smtp_a, timeout=10) as client:
                client.ehlo("client.example")
                client.user, client.password = ALICE
                code, _text = login(client)
                check_equal(code, 235, "AUTH %s" % name)
                # An authenticated user may send from anywhere to anyone.
                refused = client.sendmail("alice@a.example", ["bob@b.example"], message("After AUTH %d" % number))
                check_equal(refused, {}, "sendmail after AUTH %s" % name)
                # RFC 4954 section 4: a second AUTH in the same session is a bad sequence.
                check_equal(client.docmd("AUTH", "PLAIN")[0], 503, "a second AUTH")
        bob_messages(server, len(forms))

        for name, mechanism, initial_ok in (("PLAIN", "PLAIN", True), ("LOGIN", "LOGIN", False)):
            with smtplib.SMTP("127.0.0.1", server.smtp_a, timeout=10) as client:
                client.ehlo("client.example")
                client.user, client.password = "alice", "not-crepes"
                try:
                    client.auth(mechanism, getattr(client, "auth_" + mechanism.lower()), initial_response_ok=initial_ok)
                except smtplib.SMTPAuthenticationError as error:
                    check_equal(error.smtp_code, 535, "wrong password with %s" % name)
                else:
                    raise AssertionError("AUTH %s with a wrong password succeeded" % name)
                # The session goes on.
                check_equal(client.noop()[0], 250, "NOOP after 535")
        server.stop()


def test_pipelining_in_one_write():
    with Server(CLI) as server:
        body = message("Pipelined", body="line one\r\n.a dot line\r\n")
        with SmtpRaw(server.smtp_b) as client:
            check_equal(client.greeting[0], 220, "greeting")
            lines = client.ehlo()
            check("PIPELINING" in lines, "PIPELINING offered: %r" % lines)
            # RFC 2920 3.1: MAIL, the RCPTs and DATA in one group; DATA ends it.
            client.send(b"MAIL FROM:<alice@a.example>\r\nRCPT TO:<bob@b.example>\r\n"
                        b"RCPT TO:<nobody@b.example>\r\nRCPT TO:<postmaster@b.example>\r\nDATA\r\n")
            codes = [client.reply() for _ in range(5)]
            check_equal([c[0] for c in codes], [250, 250, 550, 250, 354], "replies in order: %r" % codes)
            check("nobody@b.example" in codes[2][1][0], "the 550 names nobody: %r" % codes[2][1])
            # The message, its end and QUIT in one write too.
            client.send(body.replace(b"\r\n.", b"\r\n..") + b".\r\nQUIT\r\n")
            check_equal(client.code(), 250, "the message")
            check_equal(client.code(), 221, "QUIT")
            check(client.at_eof(), "the server closes after 221")
        stored = bob_messages(server, 1)[0]
        check(stored.endswith(crlf(body.split(b"\r\n\r\n", 1)[1])), "the body unstuffed: %r" % stored)
        server.stop()


def test_curl():
    if CURL is None:
        print("  # skipped: curl is not installed")
        return
    with Server(CLI) as server:
        path = os.path.join(server.tmp, "mail.eml")
        with open(path, "wb") as f:
            f.write(message("From curl"))
        result = subprocess.run([CURL, "-sS", "smtp://127.0.0.1:%d" % server.smtp_b, "--mail-from", "alice@a.example",
                                 "--mail-rcpt", "bob@b.example", "-T", path], capture_output=True, timeout=30)
        check_equal(result.returncode, 0, "curl's exit code; stderr %r" % result.stderr)
        stored = bob_messages(server, 1)[0]
        check(stored.endswith(message("From curl").split(b"\r\n\r\n", 1)[0] + b"\r\n\r\nHello Bob.\r\n"), stored)

        # curl logs in (it picks PLAIN or LOGIN from EHLO) and submits to the sending server, which relays.
        result = subprocess.run([CURL, "-sS", "smtp://127.0.0.1:%d" % server.smtp_a, "--mail-from", "alice@a.example",
                                 "--mail-rcpt", "bob@b.example", "-u", "%s:%s" % ALICE, "-T", path],
                                capture_output=True, timeout=30)
        check_equal(result.returncode, 0, "curl with -u; stderr %r" % result.stderr)
        bob_messages(server, 2)

        # An unknown user: curl fails and says so.
        result = subprocess.run([CURL, "-sS", "smtp://127.0.0.1:%d" % server.smtp_b, "--mail-from", "alice@a.example",
                                 "--mail-rcpt", "nobody@b.example", "-T", path], capture_output=True, timeout=30)
        check(result.returncode != 0, "curl to an unknown user must fail")
        check(b"550" in result.stderr, "curl reports the 550: %r" % result.stderr)
        server.stop()


def swaks(*args):
    return subprocess.run([SWAKS, "--hide-informational", *args], capture_output=True, timeout=30)


def test_swaks():
    if SWAKS is None:
        print("  # skipped: swaks is not installed (Debian: apt-get install swaks)")
        return
    with Server(CLI) as server:
        result = swaks("--server", "127.0.0.1:%d" % server.smtp_b, "--from", "alice@a.example",
                       "--to", "bob@b.example", "--header", "Subject: From swaks", "--body", "Hello from swaks")
        out = result.stdout.decode("utf-8", "replace")
        check_equal(result.returncode, 0, "swaks exit code; output:\n%s" % out)
        check("<-  250" in out and "<-  221" in out, out)

        for mechanism in ("PLAIN", "LOGIN"):
            result = swaks("--server", "127.0.0.1:%d" % server.smtp_a, "--from", "alice@a.example",
                           "--to", "bob@b.example", "--auth", mechanism, "--auth-user", ALICE[0],
                           "--auth-password", ALICE[1], "--header", "Subject: swaks AUTH %s" % mechanism,
                           "--pipeline")
            out = result.stdout.decode("utf-8", "replace")
            check_equal(result.returncode, 0, "swaks --auth %s exit code; output:\n%s" % (mechanism, out))
            check("<-  235" in out, "AUTH %s accepted: %s" % (mechanism, out))

        result = swaks("--server", "127.0.0.1:%d" % server.smtp_a, "--from", "alice@a.example",
                       "--to", "bob@b.example", "--auth", "LOGIN", "--auth-user", "alice",
                       "--auth-password", "wrong")
        out = result.stdout.decode("utf-8", "replace")
        check(result.returncode != 0, "swaks with a wrong password must fail: %s" % out)
        check("<** 535" in out, out)

        result = swaks("--server", "127.0.0.1:%d" % server.smtp_b, "--from", "alice@a.example",
                       "--to", "nobody@b.example")
        out = result.stdout.decode("utf-8", "replace")
        check(result.returncode != 0, "swaks to an unknown user must fail: %s" % out)
        check("<** 550" in out, out)

        stored = bob_messages(server, 3)
        check(any(b"Subject: From swaks" in m and b"Hello from swaks" in m for m in stored), stored)
        server.stop()


run_tests([
    ("smtplib EHLO: SIZE, PIPELINING, 8BITMIME, AUTH PLAIN LOGIN", test_ehlo_extensions),
    ("smtplib: two recipients, one unknown: 550 for it, the other delivered", test_two_recipients_one_unknown),
    ("smtplib: AUTH PLAIN and LOGIN (good: 235; wrong: 535)", test_auth_plain_and_login),
    ("a whole transaction pipelined in one write: replies in order", test_pipelining_in_one_write),
    ("curl smtp:// --mail-from --mail-rcpt -T", test_curl),
    ("swaks: plain, AUTH PLAIN and LOGIN with --pipeline, wrong password, unknown user", test_swaks),
])
