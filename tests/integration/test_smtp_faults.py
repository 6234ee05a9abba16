#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults: `postlab-cli serve` killed with SIGKILL in the middle of DATA, or right after a 250.

RFC 5321 6.1: once the server answered 250 to the end of the data, the
message is its responsibility; before that it is not. So a kill in the
middle of DATA must leave nothing behind (no partial message in a Maildir's
tmp/, new/ or cur/, nor in the queue), and a message that got 250 must come
through a kill and a restart exactly once (delivered, or still queued and
delivered by the restarted relay).
"""

import os
import signal
import time

from plserve import Server, check, check_equal, cli_from_argv, run_tests
from plsmtp import SmtpRaw, files_under, message, wait_for

CLI = cli_from_argv()


def kill(server):
    server.kill()
    check_equal(server.proc.returncode, -signal.SIGKILL, "serve died of SIGKILL")


def count_subject(server, subject, user="bob"):
    needle = b"\r\nSubject: " + subject.encode() + b"\r\n"
    return sum(1 for m in server.messages_on_disk(user) if needle in m)


def mail_files(data):
    """Every file in the data folder that could hold a message: Maildirs (tmp/, new/, cur/) and the queue."""
    return [f for f in files_under(data) if not os.path.basename(f) in ("lock", "users")]


def start_transaction(port, subject):
    client = SmtpRaw(port)
    client.ehlo()
    client.expect("MAIL FROM:<alice@a.example>", 250)
    client.expect("RCPT TO:<bob@b.example>", 250)
    client.expect("DATA", 354)
    client.send(message(subject, body="part of a message\r\n" * 1000))
    return client


def test_sigkill_in_data():
    with Server(CLI) as server:
        before = mail_files(server.data)
        # One half-sent message on each server: the sending one (its queue) and the receiving one (Maildir).
        clients = [start_transaction(port, "Killed in DATA") for port in (server.smtp_a, server.smtp_b)]
        time.sleep(0.3)  # let the server read what was sent
        kill(server)
        for client in clients:
            check(client.at_eof(), "the connection is gone with the server")
            client.close()
        check_equal(mail_files(server.data), before, "files after SIGKILL in the middle of DATA")

        with Server(CLI, data=server.data, ports=server.ports) as again:
            time.sleep(0.5)
            check_equal(count_subject(again, "Killed in DATA"), 0, "no message after the restart")
            check_equal(mail_files(again.data), before, "files after the restart")
            again.stop()


def test_acknowledged_survives_sigkill():
    with Server(CLI) as server:
        # Several messages, the server killed right after the last 250: some may be relayed
        # already, some still queued; each must arrive exactly once after the restart.
        subjects = ["Acknowledged %d" % n for n in range(5)]
        for subject in subjects:
            with SmtpRaw(server.smtp_a) as client:
                client.ehlo()
                client.expect("MAIL FROM:<alice@a.example>", 250)
                client.expect("RCPT TO:<bob@b.example>", 250)
                client.expect("DATA", 354)
                client.send(message(subject) + b".\r\n")
                check_equal(client.code(), 250, "the 250 for %s" % subject)
        # And one straight to the receiving server, delivered into the Maildir before the 250.
        with SmtpRaw(server.smtp_b) as client:
            client.ehlo()
            client.expect("MAIL FROM:<alice@a.example>", 250)
            client.expect("RCPT TO:<bob@b.example>", 250)
            client.expect("DATA", 354)
            client.send(message("Delivered directly") + b".\r\n")
            check_equal(client.code(), 250, "the 250 for the direct message")
        kill(server)
        check_equal(count_subject(server, "Delivered directly"), 1, "the direct message, right after the kill")
        for subject in subjects:
            check(count_subject(server, subject) <= 1, "%s at most once before the restart" % subject)

        with Server(CLI, data=server.data, ports=server.ports) as again:
            def all_there():
                return all(count_subject(again, s) >= 1 for s in subjects)
            wait_for(all_there, timeout=15, what="every acknowledged message in bob's Maildir after the restart")
            time.sleep(1.0)  # a relay that would send one twice has had its chance
            for subject in subjects + ["Delivered directly"]:
                check_equal(count_subject(again, subject), 1, "copies of %r" % subject)
            again.stop()


def test_queued_survives_sigkill():
    # One connection per service, held on mail.b.example: the relay gets 421 there and keeps
    # the message queued (next try in a minute), so the kill certainly finds it in the queue.
    with Server(CLI, "--max-connections", "1", "--retry-intervals", "60") as server:
        with SmtpRaw(server.smtp_b) as holder:
            check_equal(holder.greeting[0], 220, "the connection that fills mail.b.example")
            with SmtpRaw(server.smtp_a) as client:
                client.ehlo()
                client.expect("MAIL FROM:<alice@a.example>", 250)
                client.expect("RCPT TO:<bob@b.example>", 250)
                client.expect("DATA", 354)
                client.send(message("Queued when killed") + b".\r\n")
                check_equal(client.code(), 250, "the 250 from mail.a.example")
            # The relay's log line says it tried and will try again (and the queue file is written).
            server.wait_for_output("deferred for bob@b.example")
            kill(server)
        check_equal(len(server.queue_files()), 1, "the message in the queue after the kill")
        check_equal(count_subject(server, "Queued when killed"), 0, "not delivered before the restart")

        with Server(CLI, data=server.data, ports=server.ports) as again:
            wait_for(lambda: count_subject(again, "Queued when killed") >= 1, timeout=10,
                     what="the queued message delivered after the restart")
            wait_for(lambda: again.queue_files() == [], timeout=5, what="the queue to empty")
            time.sleep(0.5)
            check_equal(count_subject(again, "Queued when killed"), 1, "copies delivered")
            again.stop()


run_tests([
    ("SIGKILL in the middle of DATA leaves no partial message anywhere", test_sigkill_in_data),
    ("a message that got 250 survives SIGKILL and a restart, exactly once", test_acknowledged_survives_sigkill),
    ("a message still queued survives SIGKILL and is relayed once after the restart", test_queued_survives_sigkill),
])
