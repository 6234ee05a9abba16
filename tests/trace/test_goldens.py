#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The golden transcripts of the sample captures: for every capture in captures/, the output of
`postlab-cli trace FILE` and of `postlab-cli trace --json FILE` must be, byte for byte, the
files GOLDENS/NAME.txt and GOLDENS/NAME.jsonl (NAME is the capture's file name). TAP output,
one case per capture and format, and one for goldens whose capture is gone.

    python3 test_goldens.py POSTLAB-CLI CAPTURES-DIR GOLDENS-DIR
    python3 test_goldens.py --update POSTLAB-CLI CAPTURES-DIR GOLDENS-DIR

--update writes the goldens from what the tracer says now (and removes the ones of captures
that are gone); it is what `meson compile -C BUILD update-goldens` runs. Review the diff."""

import difflib
import os
import subprocess
import sys

FORMATS = [
    (".txt", []),
    (".jsonl", ["--json"]),
]


def captures_in(folder):
    return sorted(f for f in os.listdir(folder) if f.endswith((".pcap", ".pcapng")))


def trace(cli, folder, capture, options):
    # Run from the capture's folder with its bare name, so no message can hold a path of this machine.
    proc = subprocess.run([cli, "trace", *options, capture], cwd=folder,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")


def update(cli, captures, goldens):
    os.makedirs(goldens, exist_ok=True)
    wanted = set()
    for capture in captures_in(captures):
        for suffix, options in FORMATS:
            code, out, err = trace(cli, captures, capture, options)
            if code != 0 or err:
                print("%s: postlab-cli trace %s exited %d: %s" % (capture, " ".join(options), code, err.strip()))
                return 1
            path = os.path.join(goldens, capture + suffix)
            wanted.add(capture + suffix)
            old = None
            if os.path.exists(path):
                with open(path, "rb") as f:
                    old = f.read()
            if old != out:
                with open(path, "wb") as f:
                    f.write(out)
                print("%s: %s" % ("new" if old is None else "updated", os.path.relpath(path)))
    for name in sorted(os.listdir(goldens)):
        if name not in wanted and name.endswith(tuple(s for s, _ in FORMATS)):
            os.unlink(os.path.join(goldens, name))
            print("removed: %s (its capture is gone)" % name)
    print("goldens up to date: %d captures, %d files" % (len(wanted) // len(FORMATS), len(wanted)))
    return 0


def check(cli, captures, goldens):
    names = captures_in(captures)
    cases = [(capture, suffix, options) for capture in names for suffix, options in FORMATS]
    print("1..%d" % (len(cases) + 1))
    failed = 0
    for number, (capture, suffix, options) in enumerate(cases, 1):
        what = "%s %s" % (capture, "JSON Lines" if options else "text")
        path = os.path.join(goldens, capture + suffix)
        problems = []
        code, out, err = trace(cli, captures, capture, options)
        if code != 0:
            problems.append("postlab-cli trace exited %d" % code)
        if err:
            problems.append("postlab-cli trace wrote to standard error: %s" % err.strip())
        if not os.path.exists(path):
            problems.append("no golden %s: run `meson compile -C BUILD update-goldens`" % os.path.basename(path))
        else:
            with open(path, "rb") as f:
                expected = f.read()
            if out != expected:
                diff = list(difflib.unified_diff(expected.decode("utf-8", "replace").splitlines(),
                                                 out.decode("utf-8", "replace").splitlines(),
                                                 "golden", "now", lineterm="", n=1))
                problems.append("the transcript differs from %s (%d lines of diff; first ones below)"
                                % (os.path.basename(path), len(diff)))
                problems += diff[:40]
        if problems:
            failed += 1
            print("not ok %d - %s" % (number, what))
            for line in problems:
                print("# %s" % line)
        else:
            print("ok %d - %s" % (number, what))
    expected_files = {c + s for c in names for s, _ in FORMATS}
    stale = sorted(f for f in os.listdir(goldens) if f.endswith(tuple(s for s, _ in FORMATS))
                   and f not in expected_files) if os.path.isdir(goldens) else []
    if stale:
        failed += 1
        print("not ok %d - every golden has its capture" % (len(cases) + 1))
        print("# goldens without a capture: %s (update-goldens removes them)" % ", ".join(stale))
    else:
        print("ok %d - every golden has its capture" % (len(cases) + 1))
    return 1 if failed else 0


def main():
    args = sys.argv[1:]
    do_update = args[:1] == ["--update"]
    if do_update:
        args = args[1:]
    if len(args) != 3:
        sys.exit("usage: %s [--update] POSTLAB-CLI CAPTURES-DIR GOLDENS-DIR" % sys.argv[0])
    cli, captures, goldens = os.path.abspath(args[0]), args[1], args[2]
    if do_update:
        return update(cli, captures, goldens)
    return check(cli, captures, goldens)


if __name__ == "__main__":
    sys.exit(main())
