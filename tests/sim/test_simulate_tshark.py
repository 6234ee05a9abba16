#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pcap of `postlab-cli simulate --pcap`, read by tshark: POP3 and both SMTP hops, exact bytes, good checksums."""

import os
import shutil
import subprocess
import sys
import tempfile

from simcli import (check, check_equal, cli_from_argv, lessons_from_argv, parse_jsonl, run_tests,
                    simulate, streams_from_jsonl)

CLI = cli_from_argv()
LESSONS = lessons_from_argv()
TSHARK = shutil.which("tshark")

if TSHARK is None:
    print("1..0 # SKIP tshark is not installed (apt-get install tshark); the pcap export is untested")
    sys.exit(77)


def tshark(*args):
    done = subprocess.run([TSHARK, *args], capture_output=True, timeout=120)
    if done.returncode != 0:
        raise AssertionError("tshark %s failed: %s" % (" ".join(args), done.stderr.decode("utf-8", "replace")))
    return done.stdout.decode("utf-8", "replace")


def fields(pcap, display_filter, *names):
    args = ["-r", pcap, "-Y", display_filter, "-T", "fields", "-E", "separator=|"]
    for name in names:
        args += ["-e", name]
    return [line.split("|") for line in tshark(*args).splitlines() if line.strip()]


def follow_raw(pcap, stream):
    """`tshark -q -z follow,tcp,raw,N`: (node 0, node 1, bytes from node 0, bytes from node 1)."""
    text = tshark("-r", pcap, "-q", "-z", "follow,tcp,raw,%d" % stream)
    nodes = {}
    data = {0: b"", 1: b""}
    for line in text.splitlines():
        if line.startswith("Node 0: ") or line.startswith("Node 1: "):
            nodes[int(line[5])] = line[8:]
        elif line.startswith("\t") and line.strip():
            data[1] += bytes.fromhex(line.strip())
        elif line.strip() and all(c in "0123456789abcdef" for c in line.strip()):
            data[0] += bytes.fromhex(line.strip())
    return nodes.get(0), nodes.get(1), data[0], data[1]


class Capture:
    """One run of a scenario with --json and --pcap into a folder of its own."""

    def __init__(self, *scenario):
        self.tmp = tempfile.TemporaryDirectory()
        self.pcap = os.path.join(self.tmp.name, "run.pcap")
        code, stdout, stderr = simulate(CLI, *scenario, "--json", "--pcap", self.pcap)
        check_equal(code, 0, "simulate exit code (%s)" % stderr)
        self.records = parse_jsonl(stdout)
        self.sessions = streams_from_jsonl(self.records)

    def close(self):
        self.tmp.cleanup()


def test_pop_commands():
    capture = Capture()
    try:
        commands = [row[0].upper() for row in fields(capture.pcap, "pop.request", "pop.request.command")]
        check_equal(commands, ["USER", "PASS", "LIST", "RETR", "DELE", "RETR", "DELE", "QUIT"],
                    "the POP3 commands tshark sees")
        parameters = [row[0] for row in fields(capture.pcap, "pop.request.parameter", "pop.request.parameter")]
        check_equal(parameters, ["bob", "hungry", "1", "1", "2", "2"], "their arguments")
        replies = [row[0] for row in fields(capture.pcap, "pop.response", "pop.response.indicator")]
        check(replies and all(reply == "+OK" for reply in replies), "every reply +OK: %r" % replies)
    finally:
        capture.close()


def test_smtp_both_hops():
    capture = Capture()
    try:
        rows = fields(capture.pcap, "smtp.req", "tcp.dstport", "smtp.req.command")
        by_port = {}
        for port, commands in rows:
            by_port.setdefault(port, []).extend(commands.split(","))
        check_equal(by_port.get("587"), ["EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"], "submission (587)")
        check_equal(by_port.get("25"), ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"], "relay (25)")
        codes = [row[1] for row in fields(capture.pcap, "smtp.response", "tcp.srcport", "smtp.response.code")]
        check("221" in ",".join(codes) and "354" in ",".join(codes), "replies: %r" % codes)
    finally:
        capture.close()


def check_follow(capture):
    """tshark's reassembly of each connection gives back exactly the octets of the JSON events."""
    streams = tshark("-r", capture.pcap, "-T", "fields", "-e", "tcp.stream").split()
    n_streams = len(set(streams))
    check_equal(n_streams, len(capture.sessions), "one TCP connection per session")
    matched = set()
    for stream in range(n_streams):
        client, server, from_client, from_server = follow_raw(capture.pcap, stream)
        session = next((n for n, s in capture.sessions.items()
                        if s["client"] == client and s["server"] == server), None)
        check(session is not None, "stream %d (%s -> %s) is a session of the JSON" % (stream, client, server))
        check_equal(from_client, capture.sessions[session]["C"], "stream %d, client to server" % stream)
        check_equal(from_server, capture.sessions[session]["S"], "stream %d, server to client" % stream)
        matched.add(session)
    check_equal(matched, set(capture.sessions), "every session found in the capture")


def test_follow_textbook():
    capture = Capture()
    try:
        check_follow(capture)
    finally:
        capture.close()


def test_follow_two_devices():
    capture = Capture(os.path.join(LESSONS, "two-devices.scenario"))
    try:
        check_follow(capture)
    finally:
        capture.close()


def test_follow_small_segments():
    """A message cut into many small segments (MSS 536, a slow link) still follows back whole."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "long.scenario")
        body = "".join("%sline %d of a long message, cut into segments\n" % ("." if i % 9 == 0 else "", i)
                       for i in range(150))
        with open(path, "w", encoding="utf-8") as f:
            f.write("mss 536\nlink default latency 3ms bandwidth 2Mbit/s\n"
                    "device alice user alice@a.example\ndevice bob-pc user bob@b.example pull pop3\n"
                    "message long\nSubject: long\n\n%s.\n"
                    "at 0 send alice to bob@b.example message long\nat 3s pull bob-pc\n"
                    % body.replace("\n.", "\n.."))
        capture = Capture(path)
        try:
            check_follow(capture)
            lengths = [int(row[0]) for row in fields(capture.pcap, "tcp.len > 0", "tcp.len")]
            check_equal(max(lengths), 536, "the largest segment is one MSS")
            check(sum(1 for n in lengths if n == 536) >= 10, "the message went in many full segments")
        finally:
            capture.close()


def test_checksums_and_headers():
    capture = Capture()
    try:
        rows = fields(capture.pcap, "frame", "eth.type", "ip.checksum.status", "tcp.checksum.status",
                      "ip.src", "ip.dst", "ip.ttl")
        check(len(rows) > 40, "packets: %d" % len(rows))
        check(all(row[5] == "64" for row in rows), "TTL 64")
        prefs = ["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"]
        statuses = tshark("-r", capture.pcap, *prefs, "-T", "fields", "-E", "separator=|",
                          "-e", "eth.type", "-e", "ip.checksum.status", "-e", "tcp.checksum.status").split()
        check_equal(set(statuses), {"0x0800|1|1"}, "Ethernet II carrying IPv4, IP and TCP checksums good")
        addresses = {row[3] for row in rows} | {row[4] for row in rows}
        check_equal(addresses, {"192.0.2.10", "192.0.2.25", "198.51.100.25", "198.51.100.10"},
                    "one documentation address per host")
        hosts = {r["address"] for r in capture.records if r["type"] == "host"}
        check_equal(addresses, hosts, "the addresses of the JSON's hosts")
        # A clean TCP conversation: no retransmission, lost segment, out-of-order, zero window...
        problems = tshark("-r", capture.pcap, "-Y", "tcp.analysis.flags", "-T", "fields", "-e", "frame.number")
        check_equal(problems.split(), [], "frames tshark's TCP analysis flags")
        handshakes = fields(capture.pcap, "tcp.flags.syn == 1 && tcp.flags.ack == 0", "tcp.dstport", "tcp.options.mss_val")
        check_equal(sorted(row[0] for row in handshakes), ["110", "25", "587"], "a SYN to each well-known port")
        check(all(row[1] == "1460" for row in handshakes), "the SYNs announce an MSS of 1460")
        fins = fields(capture.pcap, "tcp.flags.fin == 1", "tcp.stream")
        check_equal(len(fins), 6, "a FIN each way for each connection")
    finally:
        capture.close()


run_tests([
    ("pop-commands", test_pop_commands),
    ("smtp-both-hops", test_smtp_both_hops),
    ("follow-textbook", test_follow_textbook),
    ("follow-two-devices", test_follow_two_devices),
    ("follow-small-segments", test_follow_small_segments),
    ("checksums-and-headers", test_checksums_and_headers),
])
