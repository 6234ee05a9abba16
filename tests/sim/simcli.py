# SPDX-License-Identifier: GPL-3.0-or-later
"""What the tests of `postlab-cli simulate` share: running it, reading its JSON Lines, TAP output."""

import base64
import json
import os
import subprocess
import sys
import time


def cli_from_argv():
    """The path of postlab-cli, which meson passes as the first argument."""
    if len(sys.argv) < 2:
        sys.exit("usage: %s POSTLAB-CLI" % sys.argv[0])
    return os.path.abspath(sys.argv[1])


def lessons_from_argv():
    """The lessons/ folder of the source tree, which meson passes as the second argument."""
    if len(sys.argv) < 3:
        sys.exit("usage: %s POSTLAB-CLI LESSONS-DIR" % sys.argv[0])
    return os.path.abspath(sys.argv[2])


def simulate(cli, *args, cwd=None, timeout=60):
    """Runs `postlab-cli simulate ARGS`; returns (exit code, stdout bytes, stderr text)."""
    done = subprocess.run([cli, "simulate", *args], cwd=cwd, capture_output=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr.decode("utf-8", "replace")


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def check_equal(got, expected, what):
    if got != expected:
        raise AssertionError("%s: expected %r, got %r" % (what, expected, got))


def parse_jsonl(data):
    """Every line one JSON object (DESIGN.md's machine format)."""
    records = []
    for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
        try:
            records.append(json.loads(line))
        except ValueError as error:
            raise AssertionError("JSON line %d does not parse: %s: %r" % (number, error, line)) from None
    return records


def streams_from_jsonl(records):
    """{session id: {"client": ..., "server": ..., "C": bytes, "S": bytes}} from the events' b64."""
    sessions = {}
    for record in records:
        if record["type"] == "session":
            sessions[record["session"]] = {"client": record["client"], "server": record["server"],
                                           "hop": record.get("hop"), "protocol": record["protocol"],
                                           "C": b"", "S": b""}
        elif record["type"] == "event":
            sessions[record["session"]][record["dir"]] += base64.b64decode(record["b64"])
    return sessions


def run_tests(tests):
    """Runs each (name, function) in turn, TAP-like, and exits non-zero if one failed."""
    failed = 0
    for number, (name, func) in enumerate(tests, 1):
        start = time.monotonic()
        try:
            func()
        except Exception as error:  # noqa: BLE001 - report every failure, go on with the others
            failed += 1
            print("not ok %d - %s (%.2f s)\n  # %s: %s" % (number, name, time.monotonic() - start,
                                                           type(error).__name__, error), flush=True)
        else:
            print("ok %d - %s (%.2f s)" % (number, name, time.monotonic() - start), flush=True)
    print("1..%d" % len(tests))
    sys.exit(1 if failed else 0)
