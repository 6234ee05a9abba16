#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""SMTP push end to end: python's smtplib submits to mail.a.example, which queues the message
and relays it to mail.b.example, where Bob's POP3 shows it; a relay target that is down, a 5xx,
bounces, SIGKILL with a message in the queue, and the relay policy (never an open relay)."""

import os
import poplib
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time

from plserve import Server, check, check_equal, cli_from_argv, free_ports, port_args, run_tests

CLI = cli_from_argv()
ALICE = ("alice", "crepes")
BOB = ("bob", "hungry")
# Short retries, so that a target that stays down is bounced within a second or two.
FAST = ["--retry-intervals", "0.2,0.2"]
# Many short retries: the message waits in the queue until the test brings the target back.
PATIENT = ["--retry-intervals", ",".join(["0.2"] * 200)]


def message(subject, extra=""):
    """A message as a user agent that adds no Date or Message-ID would submit it."""
    return ("From: Alice <alice@a.example>\r\nTo: Bob <bob@b.example>\r\nSubject: %s\r\n%s\r\n"
            "Hi Bob,\r\n.a line that starts with a dot\r\nAlice\r\n" % (subject, extra))


def submit(port, recipients, subject, login=ALICE, sender="alice@a.example", extra=""):
    """smtplib submits one message; returns what sendmail returns (the refused recipients)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("alice-laptop")
        if login is not None:
            client.login(*login)
        return client.sendmail(sender, recipients, message(subject, extra))


def pop3_messages(port, user=BOB):
    """Every message in a maildrop, as POP3 hands them out (nothing deleted)."""
    deadline = time.monotonic() + 5
    while True:
        pop = poplib.POP3("127.0.0.1", port, timeout=10)
        try:
            pop.user(user[0])
            pop.pass_(user[1])
            break
        except poplib.error_proto as error:
            pop.quit()
            # The maildrop may still be locked by a session that just ended.
            if b"locked" not in str(error).encode() or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    count, _size = pop.stat()
    found = [b"\r\n".join(pop.retr(i)[1]) + b"\r\n" for i in range(1, count + 1)]
    pop.quit()
    return found


def with_subject(messages, subject):
    return [m for m in messages if b"\r\nSubject: " + subject.encode() + b"\r\n" in b"\r\n" + m]


def header_fields(message, name):
    """The values of a header field (unfolded), top first."""
    head = message.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    unfolded = re.sub(r"\r\n[ \t]+", " ", head)
    return [line.split(":", 1)[1].strip() for line in unfolded.split("\r\n")
            if line.lower().startswith(name.lower() + ":")]


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError("%s did not happen within %g s" % (what, timeout))


def test_relayed_at_once():
    with Server(CLI, verbose=True) as server:
        refused = submit(server.smtp_a, ["bob@b.example"], "Lunch at noon")
        submitted = time.monotonic()
        check_equal(refused, {}, "recipients refused")
        # It takes tens of milliseconds; the bound is loose for loaded machines and sanitizer
        # builds, and still proves the first try delivered it (the first retry is a minute away).
        found = wait_for(lambda: with_subject(pop3_messages(server.port), "Lunch at noon"), 3.0,
                         "the message reaching Bob's POP3")
        print("  # on mail.b.example %.3f s after the 250" % (time.monotonic() - submitted), flush=True)
        check_equal(len(found), 1, "copies of the message")
        got = found[0]

        received = header_fields(got, "Received")
        check_equal(len(received), 2, "Received: headers in %r" % got)
        check("by mail.b.example" in received[0] and "from mail.a.example" in received[0],
              "the top Received: is mail.b.example's: %r" % received[0])
        check("by mail.a.example" in received[1] and "from alice-laptop" in received[1],
              "the second Received: is mail.a.example's: %r" % received[1])
        check("ESMTPA" in received[1], "the submission was authenticated: %r" % received[1])
        dates = header_fields(got, "Date")
        ids = header_fields(got, "Message-ID")
        check_equal(len(dates), 1, "Date: fields")
        check(re.match(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$",
                       dates[0]), "an RFC 5322 date: %r" % dates[0])
        check_equal(len(ids), 1, "Message-ID: fields")
        check(re.match(r"^<[0-9A-F]+@mail\.a\.example>$", ids[0]), "a Message-ID of mail.a.example: %r" % ids[0])
        # The id in mail.a.example's Received: is the queue id, and makes the Message-ID.
        check(ids[0][1:].split("@")[0] in received[1], "Message-ID %s and Received %s" % (ids[0], received[1]))
        check(b"\r\n.a line that starts with a dot\r\n" in got, "dot-stuffing undone on the way")
        check_equal(server.queue_files(), [], "the queue once the message is delivered")

        server.stop()
        out = server.stdout()
        for hop, port in (("submission", server.smtp_a), ("relay", server.smtp_b), ("access", server.port)):
            check(re.search(r"^\* session \d+: (smtp|pop3), client 127\.0\.0\.1:\d+, server 127\.0\.0\.1:%d, %s$"
                            % (port, hop), out, re.M), "a %s session on port %d in:\n%s" % (hop, port, out))
        check(re.search(r"C: EHLO mail\.a\.example", out), "the relay's EHLO in the transcript")
        check("AUTH PLAIN" in out and '(decodes to: "" / "alice" / "crepes")' in out,
              "the transcript shows the credentials decoded")
        check("queued for bob@b.example (added Date, Message-ID)" in out, out)
        check(re.search(r"delivered to mail\.b\.example \(127\.0\.0\.1:%d\) for bob@b\.example: 250"
                        % server.smtp_b, out), out)
        # One TCP connection is one session: the relay's side is not printed a second time.
        check_equal(len(re.findall(r"server 127\.0\.0\.1:%d, relay" % server.smtp_b, out)), 1,
                    "relay sessions in the transcript")
        for line in ("SMTP server mail.a.example (sending, relays for a.example) listening on 127.0.0.1:%d"
                     % server.smtp_a,
                     "SMTP server mail.b.example (receiving, delivers to b.example) listening on 127.0.0.1:%d"
                     % server.smtp_b,
                     "POP3 server for a.example listening on 127.0.0.1:%d" % server.pop3_a,
                     "POP3 server for b.example listening on 127.0.0.1:%d" % server.port):
            check(line in out, "%r in:\n%s" % (line, out))


def test_trusted_and_present_headers_kept():
    """Loopback is a trusted network (Postfix's mynetworks): it may relay without AUTH; a
    message that has its Date and Message-ID keeps them."""
    with Server(CLI) as server:
        extra = "Date: Mon, 14 Apr 2025 11:02:17 +0000\r\nMessage-ID: <kept.1@alice-laptop>\r\n"
        check_equal(submit(server.smtp_a, ["bob@b.example", "alice@a.example"], "Trusted", login=None,
                           extra=extra), {}, "refused")
        got = wait_for(lambda: with_subject(pop3_messages(server.port), "Trusted"), 1.0, "delivery to Bob")[0]
        check_equal(header_fields(got, "Date"), ["Mon, 14 Apr 2025 11:02:17 +0000"], "the Date kept")
        check_equal(header_fields(got, "Message-ID"), ["<kept.1@alice-laptop>"], "the Message-ID kept")
        check("with ESMTP " in header_fields(got, "Received")[1], "not authenticated: ESMTP")
        # Alice's own copy went straight into her mailbox, with one Received: only.
        mine = with_subject(pop3_messages(server.pop3_a, ALICE), "Trusted")
        check_equal(len(mine), 1, "Alice's copy")
        check_equal(len(header_fields(mine[0], "Received")), 1, "Received: headers of a local delivery")
        server.stop()


def write_world(folder, trusted):
    """The default world with other trusted networks (data/world.ini, found from G_TEST_SRCDIR)."""
    source = os.path.join(os.environ.get("G_TEST_SRCDIR", os.path.dirname(__file__) + "/.."), "..",
                          "data", "world.ini")
    with open(source, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"^trusted-networks = .*$", "trusted-networks = " + trusted, text, flags=re.M)
    path = os.path.join(folder, "world.ini")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def smtp_reply(client, command):
    code, text = client.docmd(command)
    return code, text.decode()


def test_not_an_open_relay():
    tmp = tempfile.mkdtemp(prefix="postlab-world-")
    try:
        # A world where loopback is not trusted: a client here is "from outside".
        world = write_world(tmp, "")
        with Server(CLI, "--world", world) as server:
            with smtplib.SMTP("127.0.0.1", server.smtp_a, timeout=10) as client:
                client.ehlo("outsider")
                check_equal(smtp_reply(client, "MAIL FROM:<spammer@c.example>")[0], 250, "MAIL")
                code, text = smtp_reply(client, "RCPT TO:<bob@b.example>")
                check_equal(code, 550, "RCPT of another domain without AUTH: " + text)
                check(text.startswith("5.7.1") and "relay access denied" in text, text)
                code, text = smtp_reply(client, "RCPT TO:<victim@c.example>")
                check_equal(code, 550, "a domain nobody serves: " + text)
                check("relay access denied" in text, text)
                # Mail for the server's own users is taken from anyone: that is what MX servers do.
                check_equal(smtp_reply(client, "RCPT TO:<alice@a.example>")[0], 250, "RCPT of a local user")
                code, text = smtp_reply(client, "RCPT TO:<nobody@a.example>")
                check_equal(code, 550, "an unknown local user")
                check(text.startswith("5.1.1") and "unknown user" in text, text)
                check_equal(smtp_reply(client, "RCPT TO:<postmaster>")[0], 250, "postmaster (RFC 5321 4.5.1)")
                check_equal(smtp_reply(client, "RSET")[0], 250, "RSET")

                # Logged in, Alice may send anywhere the world has a server for.
                client.login(*ALICE)
                check_equal(smtp_reply(client, "MAIL FROM:<alice@a.example>")[0], 250, "MAIL")
                check_equal(smtp_reply(client, "RCPT TO:<bob@b.example>")[0], 250, "RCPT after AUTH")
                code, text = smtp_reply(client, "RCPT TO:<carol@c.example>")
                check_equal(code, 550, "a domain the world has no server for")
                check(text.startswith("5.1.2"), text)

            # A wrong password does not open the relay.
            with smtplib.SMTP("127.0.0.1", server.smtp_a, timeout=10) as client:
                client.ehlo("guesser")
                try:
                    client.login("alice", "wrong")
                    raise AssertionError("a wrong password logged in")
                except smtplib.SMTPAuthenticationError as error:
                    check_equal(error.smtp_code, 535, "AUTH with a wrong password")

            # mail.b.example is a receiving server: it relays for nobody, logged in or not.
            with smtplib.SMTP("127.0.0.1", server.smtp_b, timeout=10) as client:
                client.ehlo("bob-laptop")
                client.login(*BOB)
                check_equal(smtp_reply(client, "MAIL FROM:<bob@b.example>")[0], 250, "MAIL")
                code, text = smtp_reply(client, "RCPT TO:<alice@a.example>")
                check_equal(code, 550, "b relays nothing: " + text)
                check("5.7.1" in text and "takes mail for b.example only" in text, text)
            check_equal(server.queue_files(), [], "nothing was queued")
            server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_target_down_then_back():
    ports = free_ports()
    with Server(CLI, "--server", "a.example", *PATIENT, ports=ports, probe="a.example:smtp") as a:
        check_equal(submit(a.smtp_a, ["bob@b.example"], "Waits in the queue"), {}, "refused")
        a.wait_for_output("deferred for bob@b.example")
        queued = a.queue_files()
        check_equal(len(queued), 1, "messages in the queue while mail.b.example is down")
        with open(os.path.join(a.domain_folder("a.example"), "queue", "messages", queued[0]), "rb") as f:
            entry = f.read()
        check(entry.startswith(b"X-Postlab-Queue: 1\nId: " + queued[0].encode() + b"\n"), entry[:200])
        check(b"Recipient: <bob@b.example>\n" in entry and b"connection refused" in entry, entry[:600])
        check(b"\n\nReceived: from alice-laptop" in entry, "the message follows the envelope")

        # mail.b.example comes back (another serve, the other half of the same world).
        with Server(CLI, "--server", "b.example", data=a.data, ports=ports) as b:
            wait_for(lambda: with_subject(pop3_messages(b.port), "Waits in the queue"), 5,
                     "delivery once mail.b.example is back")
            wait_for(lambda: a.queue_files() == [], 2, "the queue emptying")
            time.sleep(0.5)  # more retries would come now, if the relay had kept the message
            check_equal(len(with_subject(pop3_messages(b.port), "Waits in the queue")), 1, "copies")
            b.stop()
        a.stop()
        check(re.search(r"delivered to mail\.b\.example .* for bob@b\.example: 250", a.stdout()), a.stdout())


def test_bounce_when_target_never_comes_back():
    with Server(CLI, "--server", "a.example", *FAST, probe="a.example:smtp") as a:
        check_equal(submit(a.smtp_a, ["bob@b.example"], "Never arrives"), {}, "refused")
        bounces = wait_for(lambda: pop3_messages(a.pop3_a, ALICE), 5, "a bounce in Alice's mailbox")
        check_equal(len(bounces), 1, "bounces")
        text = bounces[0].decode("utf-8")
        check_equal(header_fields(bounces[0], "Subject"), ["Undelivered Mail Returned to Sender"], "Subject")
        check_equal(header_fields(bounces[0], "To"), ["<alice@a.example>"], "To")
        check(header_fields(bounces[0], "From")[0].startswith("Mail Delivery System <MAILER-DAEMON@mail.a.example>"),
              "From")
        check("<bob@b.example>\r\n    mail.b.example (127.0.0.1:%d): could not connect: connection refused"
              % a.smtp_b in text, text)
        check("tried 3 times" in text and "given up" in text, text)
        check("\r\nSubject: Never arrives\r\n" in text, "the original headers:\n" + text)
        check("Alice\r\n" not in text.split("----- Headers of the original message -----")[1],
              "the original's body is not sent back")
        check_equal(a.queue_files(), [], "the queue after the bounce")
        a.stop()
        out = a.stdout()
        check("try 3 of 3" in out and "bounced to <alice@a.example> for bob@b.example" in out, out)


def test_5xx_bounces_at_once():
    with Server(CLI) as server:
        check_equal(submit(server.smtp_a, ["nobody@b.example", "bob@b.example"], "Half of it"), {}, "refused")
        bounce = wait_for(lambda: pop3_messages(server.pop3_a, ALICE), 1.0, "the bounce, at once")[0]
        text = bounce.decode()
        check("<nobody@b.example>\r\n    mail.b.example (127.0.0.1:%d) said: 550 5.1.1 <nobody@b.example>: "
              "unknown user" % server.smtp_b in text, text)
        check("refused it for good" in text, text)
        check("bob@b.example" not in text.split("----- Headers")[0], "only the refused recipient is reported")
        # Bob, the other recipient, got it, once.
        check_equal(len(with_subject(pop3_messages(server.port), "Half of it")), 1, "Bob's copy")
        check_equal(server.queue_files(), [], "nothing left to retry")
        server.stop()


def test_bounce_to_another_domain_and_never_a_bounce_of_a_bounce():
    with Server(CLI) as server:
        # A trusted client sends as bob@b.example through mail.a.example to nobody: the bounce
        # goes back to Bob's own server with the null sender.
        check_equal(submit(server.smtp_a, ["nobody@b.example"], "From Bob via a", login=None,
                           sender="bob@b.example"), {}, "refused")
        bounce = wait_for(lambda: [m for m in pop3_messages(server.port)
                                   if b"Undelivered Mail Returned to Sender" in m], 2, "the bounce at Bob's")[0]
        check(b"\r\nSubject: From Bob via a\r\n" in bounce, bounce)
        received = header_fields(bounce, "Received")
        check_equal(len(received), 1, "the bounce was relayed by SMTP to mail.b.example")
        check("from mail.a.example" in received[0], received[0])

        # A bounce that cannot be delivered is dropped, never bounced again (RFC 5321 6.2).
        with smtplib.SMTP("127.0.0.1", server.smtp_a, timeout=10) as client:
            client.ehlo("mailer-daemon")
            check_equal(client.sendmail("", ["nobody@b.example"], message("A bounce")), {}, "refused")
        server.wait_for_output("a bounce is never bounced")
        # The line is said as the relay decides; the queue file goes a moment later.
        wait_for(lambda: server.queue_files() == [], 2, "the queue emptying")
        check_equal([m for m in pop3_messages(server.pop3_a, ALICE)], [], "nothing reaches Alice")
        server.stop()


def test_sigkill_with_a_message_queued():
    ports = free_ports()
    # mail.b.example is down and the next try is a minute away: the message sits in the queue.
    first = Server(CLI, "--server", "a.example", ports=ports, probe="a.example:smtp")
    try:
        check_equal(submit(first.smtp_a, ["bob@b.example"], "Survives SIGKILL"), {}, "refused")
        first.wait_for_output("next try in 1 min")
        check_equal(len(first.queue_files()), 1, "queued")
        first.kill()
        # What a crash in the middle of writing another entry would have left.
        partial = os.path.join(first.domain_folder("a.example"), "queue", "tmp", "18F00000000000001.99.0")
        with open(partial, "wb") as f:
            f.write(b"X-Postlab-Queue: 1\nId: 18F0")

        with Server(CLI, "-v", data=first.data, ports=ports) as second:
            found = wait_for(lambda: with_subject(pop3_messages(second.port), "Survives SIGKILL"), 2,
                             "delivery after the restart")
            check_equal(len(found), 1, "copies after the restart")
            wait_for(lambda: second.queue_files() == [], 2, "the queue emptying")
            check(not os.path.exists(partial), "the partial file in queue/tmp was removed")
            out = second.wait_for_output("delivered to mail.b.example")
            check("1 message in the queue from before: trying it now" in out, out)
            check("removed 1 partial file" in out, out)
            second.stop()

        # And once more: nothing is left to send again.
        with Server(CLI, data=first.data, ports=ports) as third:
            time.sleep(0.3)
            check_equal(len(with_subject(pop3_messages(third.port), "Survives SIGKILL")), 1, "copies, exactly once")
            third.stop()
    finally:
        first.cleanup()


def test_sigkill_in_the_middle_of_data():
    ports = free_ports()
    first = Server(CLI, ports=ports)
    try:
        before = first.messages_on_disk()
        with socket.create_connection(("127.0.0.1", first.smtp_a), timeout=10) as raw:
            replies = raw.makefile("rb")
            check(replies.readline().startswith(b"220"), "greeting")
            raw.sendall(b"EHLO half\r\n")
            while not replies.readline().startswith(b"250 "):
                pass
            for command in (b"MAIL FROM:<alice@a.example>", b"RCPT TO:<bob@b.example>", b"DATA"):
                raw.sendall(command + b"\r\n")
                check(replies.readline()[:1] in (b"2", b"3"), command)
            raw.sendall(b"Subject: half\r\n\r\nthe first half, and then")
            time.sleep(0.2)
            first.kill()
        check_equal(first.queue_files(), [], "nothing queued from a message without its final dot")
        tmp = os.path.join(first.domain_folder("a.example"), "queue", "tmp")
        check_equal(os.listdir(tmp) if os.path.isdir(tmp) else [], [], "nothing half-written in the queue")
        with Server(CLI, data=first.data, ports=ports) as second:
            time.sleep(0.2)
            check_equal(second.messages_on_disk(), before, "Bob's Maildir")
            second.stop()
    finally:
        first.cleanup()


def test_serve_world_options():
    tmp = tempfile.mkdtemp(prefix="postlab-serve-")
    try:
        data = os.path.join(tmp, "data")
        bad = os.path.join(tmp, "bad.ini")
        with open(bad, "w", encoding="utf-8") as f:
            f.write("[domain a.example]\nserver = mail.a.example\n[server mail.a.example]\nsmtp-port = 99999\n")
        for args, why in ((["--world", bad], "bad.ini:4: smtp-port = 99999 is not a port"),
                          (["--world", os.path.join(tmp, "missing.ini")], "missing.ini"),
                          (["--port", "a.example:smtp"], "SERVER:SERVICE=PORT"),
                          (["--port", "a.example:imap=1"], "smtp or pop3"),
                          (["--port", "c.example:smtp=1"], "no server or domain called c.example"),
                          (["--port", "a.example:smtp=70000"], "not a port number"),
                          (["--server", "mail.c.example"], "no such server"),
                          (["--retry-intervals", "1,0"], "not a number of seconds above 0")):
            result = subprocess.run([CLI, "serve", "--data", data, *args], capture_output=True, timeout=20,
                                    text=True)
            check_equal(result.returncode, 2, "exit code for %r" % args)
            check(why in result.stderr, "%r: %r" % (args, result.stderr))
        # Port 0 everywhere: the system chooses, and the relay still finds mail.b.example.
        zeros = {service: 0 for service in free_ports()}
        proc = subprocess.Popen([CLI, "serve", "--data", data, *port_args(zeros), "--listen", "127.0.0.1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            lines = {}
            while len(lines) < 4:
                line = proc.stdout.readline()
                if line == "":
                    raise AssertionError("serve ended: %s" % proc.stderr.read())
                m = re.match(r"^(SMTP server mail\.(\w)\.example|POP3 server for (\w)\.example) .*listening on "
                             r"127\.0\.0\.1:(\d+)$", line.strip())
                if m:
                    lines[(line.split()[0], m.group(2) or m.group(3))] = int(m.group(4))
            check(all(port > 0 for port in lines.values()), lines)
            check_equal(submit(lines[("SMTP", "a")], ["bob@b.example"], "Any port"), {}, "refused")
            wait_for(lambda: with_subject(pop3_messages(lines[("POP3", "b")]), "Any port"), 2, "delivery")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


run_tests([
    ("smtplib submits, relayed to mail.b.example at the first try", test_relayed_at_once),
    ("trusted network relays without AUTH; Date and Message-ID kept", test_trusted_and_present_headers_kept),
    ("not an open relay", test_not_an_open_relay),
    ("target down: queued, delivered when it comes back", test_target_down_then_back),
    ("target never back: bounced to alice after the last try", test_bounce_when_target_never_comes_back),
    ("5xx from the target bounces at once", test_5xx_bounces_at_once),
    ("bounce to another domain; a bounce is never bounced", test_bounce_to_another_domain_and_never_a_bounce_of_a_bounce),
    ("SIGKILL with a message queued: delivered after restart, once", test_sigkill_with_a_message_queued),
    ("SIGKILL in the middle of DATA leaves nothing", test_sigkill_in_the_middle_of_data),
    ("serve --world, --port, --server, --retry-intervals", test_serve_world_options),
])
