#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""`postlab-cli send` (our SMTP client on a real socket) against `postlab-cli serve`."""

import base64
import json
import os
import subprocess

from plserve import Server, check, check_equal, cli_from_argv, crlf, free_port, run_tests
from plsmtp import wait_for

CLI = cli_from_argv()


def send(*args, stdin=None, timeout=30):
    return subprocess.run([CLI, "send", *args], input=stdin, capture_output=True, timeout=timeout)


def text(result):
    return result.stdout.decode("utf-8", "replace")


def new_messages(server, user="bob"):
    return [m for m in server.messages_on_disk(user) if b"Received: " in m]


def test_send_to_bob_then_fetch():
    with Server(CLI) as server:
        result = send("--from", "alice@a.example", "--to", "bob@b.example", "--subject", "Lunch?",
                      "--server", "127.0.0.1:%d" % server.smtp_a, stdin=b"")
        out = text(result)
        check_equal(result.returncode, 0, "exit code; stderr %r\n%s" % (result.stderr, out))
        for expected in ("* Connected to 127.0.0.1 (127.0.0.1:%d)" % server.smtp_a, "S: 220 mail.a.example",
                         "C: EHLO ", "S: 250-PIPELINING", "C: MAIL FROM:<alice@a.example> SIZE=",
                         "C: RCPT TO:<bob@b.example>", "C: DATA", "S: 354", "C: From: alice@a.example",
                         "C: To: bob@b.example", "C: Subject: Lunch?", "C: .", "C: QUIT", "S: 221",
                         "* Connection closed", "* bob@b.example: accepted (250"):
            check(expected in out, "send output lacks %r:\n%s" % (expected, out))
        # Wire order: each reply after the command it answers.
        check(out.index("C: DATA") < out.index("S: 354") < out.index("C: From:") < out.index("C: QUIT"), out)

        # mail.a.example relays it to mail.b.example; Bob's POP3 then has a third message.
        stored = wait_for(lambda: new_messages(server), what="the message in bob's Maildir")
        check_equal(len(stored), 1, "one message delivered")
        check(b"\r\nSubject: Lunch?\r\n" in stored[0], stored[0])
        fetched = subprocess.run([CLI, "fetch", "pop3://bob:hungry@127.0.0.1:%d" % server.port],
                                 capture_output=True, timeout=30)
        check_equal(fetched.returncode, 0, "fetch's exit code; stderr %r" % fetched.stderr)
        fetched_out = fetched.stdout.decode("utf-8", "replace")
        check("* 3 messages retrieved" in fetched_out, fetched_out)
        check("S: Subject: Lunch?" in fetched_out, fetched_out)
        server.stop()


def test_unknown_user():
    with Server(CLI) as server:
        for port, rcpt in ((server.smtp_b, "nobody@b.example"), (server.smtp_a, "nobody@a.example")):
            result = send("--from", "alice@a.example", "--to", rcpt, "--server", "127.0.0.1:%d" % port)
            out = text(result)
            check_equal(result.returncode, 1, "exit code for %s; stderr %r\n%s" % (rcpt, result.stderr, out))
            check("S: 550 " in out, "the 550 is shown:\n%s" % out)
            check("* %s: refused: 550 " % rcpt in out, out)
            check("C: QUIT" in out, "the session still ends with QUIT:\n%s" % out)
            check(b"550" in result.stderr and b"not accepted" in result.stderr, result.stderr)

        # One good, one unknown: bob gets it, the exit code still says something was refused.
        result = send("--from", "alice@a.example", "--to", "bob@b.example", "--to", "nobody@b.example",
                      "--subject", "Half", "--server", "127.0.0.1:%d" % server.smtp_b)
        out = text(result)
        check_equal(result.returncode, 1, "exit code with one refused recipient\n%s" % out)
        check("* bob@b.example: accepted (250" in out and "* nobody@b.example: refused: 550" in out, out)
        stored = new_messages(server)
        check_equal(len(stored), 1, "bob got it")
        check(b"\r\nTo: bob@b.example, nobody@b.example\r\n" in stored[0], stored[0])
        server.stop()


def test_json():
    with Server(CLI) as server:
        result = send("--from", "alice@a.example", "--to", "bob@b.example", "--to", "nobody@b.example",
                      "--subject", "JSON", "--server", "127.0.0.1:%d" % server.smtp_b, "--json")
        check_equal(result.returncode, 1, "exit code; stderr %r" % result.stderr)
        objects = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
        session = objects[0]
        check_equal(session["type"], "session", "first line")
        check_equal(session["protocol"], "smtp", "protocol")
        check_equal(session.get("hop"), "submission", "the hop of the mail path")
        check_equal(session["server"], "127.0.0.1:%d" % server.smtp_b, "server endpoint")
        check(session["client"].startswith("127.0.0.1:"), session)
        check(isinstance(session["t"], float) and session["t"] > 1e9, "epoch seconds")
        ends = [i for i, o in enumerate(objects) if o["type"] == "end"]
        check_equal(len(ends), 1, "one end line")
        events, recipients = objects[1:ends[0]], objects[ends[0] + 1:]

        streams = {"C": b"", "S": b""}
        last_t = session["t"]
        for event in events:
            check(event["type"] in ("event", "note"), event)
            check_equal(event["session"], session["session"], "session id")
            check(event["t"] >= last_t, "times never go back")
            last_t = event["t"]
            if event["type"] == "note":
                continue
            for field in ("dir", "kind", "text", "b64"):
                check(field in event, "event lacks %r: %r" % (field, event))
            streams[event["dir"]] += base64.b64decode(event["b64"])
            if event["dir"] == "S":
                check_equal(event["kind"], "reply", "server events")
                check(len(event["status"]) == 3 and event["status"].isdigit(), event)
            elif event["kind"] == "command":
                check("verb" in event, event)
            else:
                check_equal(event["kind"], "data", "the message unit")
        verbs = [e["verb"] for e in events if e.get("kind") == "command"]
        check_equal(verbs, ["EHLO", "MAIL", "RCPT", "RCPT", "DATA", "QUIT"], "commands sent")
        check(b"\r\nSubject: JSON\r\n" in streams["C"] and b"\r\n.\r\nQUIT\r\n" in streams["C"], streams["C"])
        check(streams["S"].startswith(b"220 mail.b.example") and streams["S"].endswith(b"\r\n"), streams["S"])
        statuses = [e["status"] for e in events if e.get("dir") == "S"]
        check_equal(statuses, ["220", "250", "250", "250", "550", "354", "250", "221"], "replies")

        check_equal([(r["type"], r["session"], r["address"], r["verdict"], r["code"]) for r in recipients],
                    [("recipient", session["session"], "bob@b.example", "delivered", 250),
                     ("recipient", session["session"], "nobody@b.example", "permanent", 550)], "the recipient lines")
        check(recipients[1]["reply"].startswith("550 "), recipients[1])
        server.stop()


def test_body_from_stdin_and_file():
    with Server(CLI) as server:
        body = "Dear Bob,\n.a line with a leading dot\n\nnaïve café ☕\n".encode("utf-8")
        result = send("--from", "alice@a.example", "--to", "bob@b.example", "--subject", "Grüße",
                      "--body-file", "-", "--server", "127.0.0.1:%d" % server.smtp_b, stdin=body)
        check_equal(result.returncode, 0, "exit code; stderr %r" % result.stderr)
        path = os.path.join(server.tmp, "body.txt")
        with open(path, "wb") as f:
            f.write(b"From a file,\r\nwith CRLF already\r\nand no line end at the end")
        result = send("--from", "alice@a.example", "--to", "bob@b.example", "--subject", "File",
                      "--body-file", path, "--server", "127.0.0.1:%d" % server.smtp_b)
        check_equal(result.returncode, 0, "exit code; stderr %r" % result.stderr)

        stored = sorted(new_messages(server), key=lambda m: b"Subject: File" in m)
        check_equal(len(stored), 2, "two messages")
        first, second = stored
        check(first.endswith(b"\r\n\r\n" + crlf(body)), first)
        check(b"\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n" in first, "the subject as an encoded word: %r" % first)
        check(b"\r\nContent-Transfer-Encoding: 8bit\r\n" in first, first)
        check(b"\r\nContent-Type: text/plain; charset=utf-8\r\n" in first, first)
        check(b"\r\nMIME-Version: 1.0\r\n" in first and b"\r\nMessage-ID: <" in first and b"\r\nDate: " in first, first)
        check(second.endswith(b"\r\n\r\nFrom a file,\r\nwith CRLF already\r\nand no line end at the end\r\n"), second)
        check(b"\r\nContent-Transfer-Encoding: 7bit\r\n" in second, second)
        server.stop()


def test_auth():
    with Server(CLI) as server:
        result = send("--from", "alice@a.example", "--to", "bob@b.example", "--auth", "alice:crepes",
                      "--server", "127.0.0.1:%d" % server.smtp_a)
        out = text(result)
        check_equal(result.returncode, 0, "exit code; stderr %r\n%s" % (result.stderr, out))
        check('C: AUTH PLAIN AGFsaWNlAGNyZXBlcw==  (decodes to: "" / "alice" / "crepes")' in out, out)
        check("S: 235 " in out, out)
        check(out.index("S: 235") < out.index("C: MAIL FROM"), "AUTH before MAIL")

        result = send("--from", "alice@a.example", "--to", "bob@b.example", "--auth", "alice:wrong",
                      "--server", "127.0.0.1:%d" % server.smtp_a)
        out = text(result)
        check_equal(result.returncode, 1, "exit code with a wrong password\n%s" % out)
        check("S: 535 " in out and "C: MAIL" not in out, out)
        check(b"535" in result.stderr, result.stderr)
        wait_for(lambda: new_messages(server), what="the message sent with AUTH")
        check_equal(len(new_messages(server)), 1, "only the authenticated message arrives")
        server.stop()


def test_usage_errors():
    port = free_port()
    long_line = os.path.join(os.environ.get("TMPDIR", "/tmp"), "postlab-send-%d.txt" % os.getpid())
    cases = [
        ((), None, b"--from"),
        (("--from", "alice@a.example"), None, b"--to"),
        (("--to", "bob@b.example"), None, b"--from"),
        (("--from", "alice", "--to", "bob@b.example"), None, b"no @"),
        (("--from", "alice@a.example", "--to", "bob@b.example\r\nRCPT TO:<x@y>"), None, b"line break"),
        (("--from", "alice@a.example", "--to", "bob smith@b.example"), None, b"space"),
        (("--from", "<alice@a.example>", "--to", "bob@b.example"), None, b"angle brackets"),
        (("--from", "alice@a.example", "--to", "bob@b.example,carol@b.example"), None, b"one address per --to"),
        (("--from", "alice@a.example", "--to", "bob@"), None, b"nothing after the @"),
        (("--from", "alice@a.example", "--to", "bob@b..example"), None, b"empty label"),
        (("--from", "alice@a.example", "--to", "bob@b.example", "--server", "127.0.0.1:99999"), None, b"port"),
        (("--from", "alice@a.example", "--to", "bob@b.example", "--server", ":25"), None, b"no host"),
        (("--from", "alice@a.example", "--to", "bob@b.example", "--auth", "alice"), None, b"USER:PASS"),
        (("--from", "alice@a.example", "--to", "bob@b.example", "--subject", "a\nb"), None, b"line break"),
        (("--from", "alice@a.example", "--to", "bob@b.example", "--body-file", "/nonexistent/body"), None,
         b"/nonexistent/body"),
        (("--from", "alice@a.example", "--to", "bob@b.example", "--body-file", "-"), b"a\x00b\n", b"NUL"),
        (("--from", "alice@a.example", "--to", "bob@b.example", "--body-file", "-"), b"\xff\xfe\n", b"UTF-8"),
        (("--from", "alice@a.example", "--to", "bob@b.example", "--body-file", "-"), b"a\rb\n", b"carriage return"),
        (("--from", "alice@a.example", "--to", "bob@b.example", "--body-file", long_line), None,
         b"line 2 of the body is 999 octets long"),
        (("--from", "alice@a.example", "--to", "bob@b.example", "extra"), None, b"unexpected argument"),
        (("--from", "alice@a.example", "--to", "bob@b.example", "--frobnicate"), None, b"frobnicate"),
    ]
    with open(long_line, "wb") as f:
        f.write(b"ok\n" + b"x" * 999 + b"\n")
    try:
        for args, stdin, why in cases:
            # A server that would answer if the command got that far: nothing may be sent.
            result = send(*args, "--server", "127.0.0.1:%d" % port, stdin=stdin) \
                if "--server" not in args else send(*args, stdin=stdin)
            check_equal(result.returncode, 2, "exit code for %r; stderr %r" % (args, result.stderr))
            check(why in result.stderr, "%r: stderr %r lacks %r" % (args, result.stderr, why))
            check(b"Connected" not in result.stdout, "nothing connected for %r" % (args,))
    finally:
        os.unlink(long_line)

    # 998 octets is fine: the usage checks pass and it fails only to connect.
    result = send("--from", "alice@a.example", "--to", "bob@b.example", "--body-file", "-",
                  "--server", "127.0.0.1:%d" % port, stdin=b"y" * 998 + b"\r\n")
    check_equal(result.returncode, 2, "exit code when nothing listens")
    check(b"Cannot connect to 127.0.0.1 port %d" % port in result.stderr, result.stderr)
    check(b"* " not in result.stdout, "no summary when nothing connected: %r" % result.stdout)

    result = send("--help")
    check_equal(result.returncode, 0, "--help")
    for option in (b"--from", b"--to", b"--subject", b"--body-file", b"--server", b"--auth", b"--json"):
        check(option in result.stdout, "--help lacks %r" % option)
    result = subprocess.run([CLI, "help"], capture_output=True)
    check(b"send" in result.stdout, result.stdout)


run_tests([
    ("send to bob via mail.a.example, then fetch it by POP3", test_send_to_bob_then_fetch),
    ("send to an unknown user: exit 1 and the 550 shown", test_unknown_user),
    ("send --json: JSON Lines with DESIGN.md's fields, then one line per recipient", test_json),
    ("send --body-file - and --body-file FILE: the body as given, CRLF", test_body_from_stdin_and_file),
    ("send --auth: AUTH PLAIN shown decoded; a wrong password exits 1", test_auth),
    ("send: usage and connection errors exit 2, naming what was wrong", test_usage_errors),
])
