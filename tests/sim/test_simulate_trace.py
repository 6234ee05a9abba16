#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Round trip: what `simulate` says it sent is what `postlab-cli trace` finds in its pcap, unit for unit."""

import json
import os
import subprocess
import sys
import tempfile

from simcli import (check, check_equal, cli_from_argv, lessons_from_argv, parse_jsonl, run_tests,
                    simulate)

CLI = cli_from_argv()
LESSONS = lessons_from_argv()

overview = subprocess.run([CLI, "help"], capture_output=True).stdout.decode("utf-8", "replace")
if "\n  trace " not in overview:
    print("1..0 # SKIP this postlab-cli has no 'trace' command to read the pcap back")
    sys.exit(77)


def units_by_connection(records):
    """{(client, server): [(dir, kind, verb, status, b64), ...]} in each direction's order."""
    endpoints = {}
    units = {}
    for record in records:
        if record["type"] == "session":
            endpoints[record["session"]] = (record["client"], record["server"])
            units[endpoints[record["session"]]] = {"C": [], "S": []}
        elif record["type"] == "event":
            key = endpoints[record["session"]]
            units[key][record["dir"]].append((record["kind"], record.get("verb"), record.get("status"),
                                              record["b64"]))
    return units


def round_trip(*scenario):
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "run.pcap")
        code, stdout, stderr = simulate(CLI, *scenario, "--json", "--pcap", pcap)
        check_equal(code, 0, "simulate (%s)" % stderr)
        simulated = units_by_connection(parse_jsonl(stdout))
        done = subprocess.run([CLI, "trace", pcap, "--json"], capture_output=True, timeout=60)
        check_equal(done.returncode, 0, "trace (%s)" % done.stderr.decode("utf-8", "replace"))
        traced = units_by_connection(parse_jsonl(done.stdout))
    check_equal(sorted(traced), sorted(simulated), "the connections")
    for key in simulated:
        for direction in "CS":
            check_equal(traced[key][direction], simulated[key][direction], "%s -> %s, %s" % (key + (direction,)))
    return simulated


def test_textbook():
    units = round_trip()
    check_equal(len(units), 3, "connections")


def test_two_devices():
    units = round_trip(os.path.join(LESSONS, "two-devices.scenario"))
    check_equal(len(units), 4, "connections")


run_tests([
    ("textbook", test_textbook),
    ("two-devices", test_two_devices),
])
