#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""`postlab-cli simulate`: the textbook timeline, JSON Lines, determinism, and scenarios with mistakes."""

import os
import re
import tempfile

from simcli import (check, check_equal, cli_from_argv, lessons_from_argv, parse_jsonl, run_tests,
                    simulate, streams_from_jsonl)

CLI = cli_from_argv()
LESSONS = lessons_from_argv()

# Kurose & Ross's POP3 figure, as `simulate` must print it after the two SMTP hops.
FIGURE = [
    "S: +OK POP3 server ready",
    "C: user bob",
    "S: +OK",
    "C: pass hungry",
    "S: +OK user successfully logged on",
    "C: list",
    "S: +OK 2 messages (1410 octets)",
    "1 498",
    "2 912",
    ".",
    "C: retr 1",
    "S: +OK 498 octets",
    "C: dele 1",
    "C: retr 2",
    "S: +OK 912 octets",
    "C: dele 2",
    "C: quit",
    "S: +OK POP3 server signing off",
]


def lines_of(stdout):
    return stdout.decode("utf-8").splitlines()


def session_lines(lines, number):
    """The lines of session @number: its header, and every line prefixed '#N ' (and their continuations)."""
    out = []
    inside = False
    for line in lines:
        if line.startswith("* session "):
            inside = False
            continue
        match = re.match(r"^ *\d+\.\d{3} #(\d+) +(.*)$", line)
        if match:
            inside = int(match.group(1)) == number
            if inside:
                out.append(match.group(2))
        elif inside:
            out.append(line.strip())
    return out


def test_default_is_the_textbook():
    code, stdout, stderr = simulate(CLI)
    check_equal(code, 0, "exit code")
    check_equal(stderr, "", "stderr")
    lines = lines_of(stdout)
    headers = [line for line in lines if line.startswith("* session") and not line.endswith("closed")]
    check_equal(len(headers), 3, "sessions")
    check(re.match(r"\* session 1: smtp, client 192\.0\.2\.10:\d+, server 192\.0\.2\.25:587, submission$",
                   headers[0]), headers[0])
    check(re.match(r"\* session 2: smtp, client 192\.0\.2\.25:\d+, server 198\.51\.100\.25:25, relay$",
                   headers[1]), headers[1])
    check(re.match(r"\* session 3: pop3, client 198\.51\.100\.10:\d+, server 198\.51\.100\.25:110, access$",
                   headers[2]), headers[2])
    # One timeline: the SMTP hops come first, the POP3 session after them.
    check(lines.index(headers[0]) < lines.index(headers[1]) < lines.index(headers[2]), "sessions in time order")

    pop3 = [line for line in session_lines(lines, 3) if not line.startswith("-- ")]
    position = 0
    for expected in FIGURE:
        while position < len(pop3) and pop3[position] != expected:
            position += 1
        check(position < len(pop3), "the POP3 session shows %r in the figure's order" % expected)
        position += 1
    # The second message came through both hops: its Received: lines, and its dot line (shown unstuffed).
    text = stdout.decode("utf-8")
    check("by mail.b.example (Postlab) with ESMTP" in text, "the relay's Received: line")
    check("by mail.a.example (Postlab) with ESMTPA" in text, "the submission's Received: line")
    check("mailbox bob@b.example on mail.b.example is empty" in text, "POP3 emptied the mailbox")

    smtp1 = " ".join(session_lines(lines, 1))
    smtp2 = " ".join(session_lines(lines, 2))
    for verb in ("EHLO", "AUTH PLAIN", "MAIL FROM:<alice@a.example>", "RCPT TO:<bob@b.example>", "DATA", "QUIT"):
        check("C: " + verb in smtp1, "submission shows %s" % verb)
    for verb in ("EHLO mail.a.example", "MAIL FROM:<alice@a.example>", "RCPT TO:<bob@b.example>", "DATA", "QUIT"):
        check("C: " + verb in smtp2, "relay shows %s" % verb)
    check("asks DNS for the mail server (MX) of b.example" in smtp2, "the relay's DNS step")
    check("C: AUTH" not in smtp2, "no AUTH server to server")


def test_explain():
    code, stdout, _ = simulate(CLI, "--explain")
    check_equal(code, 0, "exit code")
    text = stdout.decode("utf-8")
    check("RFC 1939" in text and "RFC 5321" in text, "explanations with their RFCs")
    lines = lines_of(stdout)
    quit_line = next(i for i, line in enumerate(lines) if line.endswith("C: quit"))
    check(lines[quit_line + 1].strip().startswith("("), "an explanation under QUIT: %r" % lines[quit_line + 1])


def test_json():
    code, stdout, stderr = simulate(CLI, "--json")
    check_equal(code, 0, "exit code")
    check_equal(stderr, "", "stderr")
    records = parse_jsonl(stdout)
    types = [record["type"] for record in records]
    check_equal(types[:7], ["host"] * 4 + ["link"] * 3, "the topology comes first")
    hosts = {record["name"]: record for record in records if record["type"] == "host"}
    check_equal(hosts["bob-pc"]["address"], "198.51.100.10", "bob-pc's address")
    check_equal(hosts["bob-pc"]["pull"], "pop3", "bob-pc pulls with POP3")
    check_equal(hosts["mail.a.example"]["role"], "sending-server", "mail.a.example's role")
    addresses = [record["address"] for record in hosts.values()]
    check_equal(len(set(addresses)), len(addresses), "one address per host")
    check_equal(types.count("session"), 3, "sessions")
    check_equal(types.count("end"), 3, "ends")
    times = [record["t"] for record in records if "t" in record and record["type"] in ("event", "note")]
    check_equal(times, sorted(times), "events in time order")
    sessions = streams_from_jsonl(records)
    check_equal([sessions[n]["hop"] for n in (1, 2, 3)], ["submission", "relay", "access"], "hops")
    check(sessions[3]["C"].startswith(b"user bob\r\npass hungry\r\nlist\r\nretr 1\r\n"), "POP3 commands")
    check(sessions[3]["S"].endswith(b"+OK POP3 server signing off\r\n"), "POP3 replies")
    mailbox = [record for record in records if record["type"] == "note" and record.get("verb") == "MAILBOX"]
    check_equal([record["args"] for record in mailbox if "bob@" in record["args"]],
                ["mail.b.example bob@b.example 1 498", "mail.b.example bob@b.example 2 1410",
                 "mail.b.example bob@b.example 0 0"], "Bob's mailbox, step by step")


def test_deterministic():
    with tempfile.TemporaryDirectory() as tmp:
        outputs = []
        for run in range(2):
            pcap = os.path.join(tmp, "run%d.pcap" % run)
            code, stdout, _ = simulate(CLI, "--json", "--pcap", pcap)
            check_equal(code, 0, "exit code")
            with open(pcap, "rb") as f:
                outputs.append((stdout, f.read()))
        check(outputs[0][0] == outputs[1][0], "two runs print the same JSON Lines")
        check(outputs[0][1] == outputs[1][1], "two runs write the same pcap")
        check(len(outputs[0][1]) > 24, "the pcap holds packets")
        check_equal(sorted(os.listdir(tmp)), ["run0.pcap", "run1.pcap"], "no temporary files left")
        code, text1, _ = simulate(CLI)
        code, text2, _ = simulate(CLI)
        check(text1 == text2, "two runs print the same text")


def test_two_devices_scenario():
    path = os.path.join(LESSONS, "two-devices.scenario")
    code, stdout, stderr = simulate(CLI, path)
    check_equal(code, 0, "exit code (%s)" % stderr)
    lines = lines_of(stdout)
    phone = session_lines(lines, 4)
    check("S: +OK 0 messages (0 octets)" in phone, "the phone finds the mailbox empty: %r" % phone)
    check(not any(line.startswith("C: RETR") for line in phone), "the phone retrieves nothing")
    laptop = session_lines(lines, 3)
    check_equal(sum(line.startswith("C: DELE") for line in laptop), 3, "the laptop deletes all three")


BAD_SCENARIOS = [
    # (what, text, line, part of the message)
    ("unknown host", "device alice user alice@a.example\n\nat 0s send carol to bob@b.example textbook 1\n",
     3, "unknown host 'carol'"),
    ("unknown protocol", "# Bob's tablet\ndevice bob-tablet user bob@b.example pull gopher\n",
     2, "unknown protocol 'gopher'"),
    ("bad time", "device alice user alice@a.example\nat noon send alice to bob@b.example textbook 1\n",
     2, "bad time 'noon'"),
    ("unknown host in a link", "link mail.a.example mail.z.example latency 5ms\n", 1, "unknown host"),
]


def test_scenario_errors():
    for what, text, line, message in BAD_SCENARIOS:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "broken.scenario")
            pcap = os.path.join(tmp, "out.pcap")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            for extra in ([], ["--json"], ["--pcap", pcap]):
                code, stdout, stderr = simulate(CLI, path, *extra)
                check_equal(code, 2, "%s: exit code" % what)
                check_equal(stdout, b"", "%s: nothing printed" % what)
                check("%s:%d: " % (path, line) in stderr, "%s: the error names file and line: %r" % (what, stderr))
                check(message in stderr, "%s: says what is wrong: %r" % (what, stderr))
                check_equal(sorted(os.listdir(tmp)), ["broken.scenario"], "%s: nothing written" % what)


def test_usage_errors():
    code, stdout, stderr = simulate(CLI, "/nonexistent/lesson.scenario")
    check_equal(code, 2, "missing scenario: exit code")
    check("lesson.scenario" in stderr, "missing scenario: named")
    code, stdout, stderr = simulate(CLI, "--pcap", "/nonexistent-folder/out.pcap")
    check_equal(code, 2, "unwritable pcap: exit code")
    check_equal(stdout, b"", "unwritable pcap: nothing printed")
    code, _, _ = simulate(CLI, "a.scenario", "b.scenario")
    check_equal(code, 2, "two scenarios: exit code")
    code, stdout, _ = simulate(CLI, "--help")
    check_equal(code, 0, "--help")
    check(b"--pcap" in stdout and b"--explain" in stdout, "--help lists the options")


def test_an_existing_output_survives_an_error():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "broken.scenario")
        pcap = os.path.join(tmp, "out.pcap")
        with open(path, "w", encoding="utf-8") as f:
            f.write("mss lots\n")
        with open(pcap, "wb") as f:
            f.write(b"an older capture")
        code, _, stderr = simulate(CLI, path, "--pcap", pcap)
        check_equal(code, 2, "exit code")
        check("broken.scenario:1: bad mss 'lots'" in stderr, stderr)
        with open(pcap, "rb") as f:
            check_equal(f.read(), b"an older capture", "the older file at OUT")


run_tests([
    ("default-is-the-textbook", test_default_is_the_textbook),
    ("explain", test_explain),
    ("json", test_json),
    ("deterministic", test_deterministic),
    ("two-devices", test_two_devices_scenario),
    ("scenario-errors", test_scenario_errors),
    ("usage-errors", test_usage_errors),
    ("existing-output-survives", test_an_existing_output_survives_an_error),
])
