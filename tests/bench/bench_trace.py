#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The measuring half of run-bench-trace.sh: runs each reader of one capture several times and
prints the median wall time, the throughput, the peak memory (ru_maxrss of the process) and the
ratios against the targets of issue #5.

    python3 bench_trace.py POSTLAB-CLI FLOOR CAPTURE RUNS TSHARK-RUNS"""

import os
import shutil
import statistics
import subprocess
import sys
import time

# Issue #5's targets for `trace --json`.
TARGET_VS_TSHARK = 20.0
TARGET_VS_FLOOR = 0.5
TARGET_RSS_MIB = 64


# The peak RSS of a process counts what it had before exec too: a child forked by this Python
# starts with the interpreter's ~30 MiB. GNU time (package "time") is a small C parent, so its
# %M is the reader's own; without it the figure is an upper bound.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def measure(argv):
    """Wall seconds and peak RSS (KiB) of one run, its output thrown away."""
    report = os.path.join(os.environ.get("TMPDIR", "/tmp"), "bench-trace-%d.time" % os.getpid())
    wrapped = [GNU_TIME, "-f", "%M", "-o", report, *argv] if GNU_TIME else argv
    with open(os.devnull, "wb") as devnull:
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=devnull, stderr=subprocess.PIPE)
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit("%s exited %d: %s" % (" ".join(argv), code, err.decode(errors="replace")))
    rss = usage.ru_maxrss
    if GNU_TIME:
        with open(report) as f:
            rss = int(f.read().split()[-1])
        os.unlink(report)
    return seconds, rss


def warm(path):
    """Reads the file once so every reader finds it in the page cache: what is compared is the
    work of reading a capture, not the disk."""
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: %s POSTLAB-CLI FLOOR CAPTURE RUNS TSHARK-RUNS" % sys.argv[0])
    cli, floor, capture = sys.argv[1:4]
    runs, tshark_runs = int(sys.argv[4]), int(sys.argv[5])
    size_mb = os.path.getsize(capture) / 1e6
    warm(capture)
    readers = [
        ("floor", "bare libpcap read loop (the floor)", [floor, capture], runs),
        ("json", "postlab-cli trace --json", [cli, "trace", "--json", capture], runs),
        ("text", "postlab-cli trace (text)", [cli, "trace", capture], runs),
    ]
    if not GNU_TIME:
        print("(no /usr/bin/time, apt-get install time: peak RSS figures include this script's own)")
    if shutil.which("tshark"):
        readers.append(("tshark", "tshark -r FILE -Y 'smtp||pop||imap||http'",
                        ["tshark", "-r", capture, "-Y", "smtp||pop||imap||http"], tshark_runs))
    else:
        print("tshark is not installed (apt-get install tshark): its column stays empty")
    results = {}
    # Round by round, each reader once a round (tshark in its own rounds at the end: it is slow): a
    # shared machine's load comes and goes, and the ratios compare runs made under the same load.
    times = {key: [] for key, _, _, _ in readers}
    rss = {key: [] for key, _, _, _ in readers}
    for _ in range(runs):
        for key, name, argv, n in readers:
            if key != "tshark":
                seconds, kib = measure(argv)
                times[key].append(seconds)
                rss[key].append(kib)
    for key, name, argv, n in readers:
        if key == "tshark":
            for _ in range(n):
                seconds, kib = measure(argv)
                times[key].append(seconds)
                rss[key].append(kib)
    print("%-44s %9s %9s %12s  %s" % ("reader", "median s", "MB/s", "peak RSS", "runs (s)"))
    for key, name, argv, n in readers:
        median = statistics.median(times[key])
        results[key] = (size_mb / median, max(rss[key]) / 1024)
        print("%-44s %9.3f %9.1f %8.1f MiB  %s" % (name, median, size_mb / median, max(rss[key]) / 1024,
                                                 " ".join("%.3f" % t for t in times[key])), flush=True)
    json_rate, json_rss = results["json"]
    print()
    verdict = []
    if "tshark" in results:
        ratio = json_rate / results["tshark"][0]
        verdict.append(ratio >= TARGET_VS_TSHARK)
        print("trace --json / tshark:  %6.1fx   (target: at least %gx)" % (ratio, TARGET_VS_TSHARK))
    ratio = json_rate / results["floor"][0]
    verdict.append(ratio >= TARGET_VS_FLOOR)
    print("trace --json / floor:   %6.2f    (target: at least %g)" % (ratio, TARGET_VS_FLOOR))
    print("trace --json peak RSS:  %6.1f MiB (target: under %d MiB)" % (json_rss, TARGET_RSS_MIB))
    verdict.append(json_rss < TARGET_RSS_MIB)
    print("text / --json:          %6.2f" % (results["text"][0] / json_rate))
    print("targets met: %d of %d" % (sum(verdict), len(verdict)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
