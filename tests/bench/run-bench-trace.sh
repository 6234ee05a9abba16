#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark of the tracer (not a meson test): a capture of mixed mail sessions (SMTP, POP3,
# IMAP, HTTP webmail; gen-mail-pcap.py, 600 MB unless told; or, with WORKLOAD sim, the
# simulator's pcap export of the textbook's path over and over: small messages and small
# segments, many more packets and events a MB), read in one run by
#   postlab-cli trace --json FILE > /dev/null
#   postlab-cli trace FILE > /dev/null                 (the text transcript, for comparison)
#   tshark -r FILE -Y 'smtp||pop||imap||http' > /dev/null
#   bench-pcap-floor FILE                              (a bare libpcap read loop: the floor)
# each RUNS times, in rounds (floor, --json, text, then again: the ratios compare runs made under the
# same load), tshark TSHARK-RUNS times after (it is slow); prints the median MB/s, peak RSS and
# the ratios against issue #5's targets (20x tshark, half the floor, under 64 MiB).
#
#   tests/bench/run-bench-trace.sh [BUILD-DIR] [RUNS] [SIZE-MB] [TSHARK-RUNS] [mixed|sim]
#
# BUILD-DIR defaults to _build (ninja -C BUILD-DIR builds what is needed; a release-like
# buildtype, the default debugoptimized, is what to measure). The capture is written once to
# BUILD-DIR/tests/bench/ and kept for later runs; it is read from the page cache.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${1:-_build}
runs=${2:-5}
size=${3:-600}
tshark_runs=${4:-3}
workload=${5:-mixed}

if [ ! -f "$build/build.ninja" ]; then
  echo "run-bench-trace: $build is not a build folder: meson setup $build first" >&2
  exit 2
fi
ninja -C "$build" src/cli/postlab-cli tests/bench/bench-pcap-floor >/dev/null
case "$workload" in
  mixed)
    capture="$build/tests/bench/mail-sessions-${size}MB.pcap"
    if [ ! -f "$capture" ]; then
      echo "writing $capture ..."
      python3 tests/bench/gen-mail-pcap.py "$capture.part" "$size"
      mv "$capture.part" "$capture"
    fi
    ;;
  sim)
    # The textbook's path (submission, relay, POP3 download-and-delete) once a message, about
    # 7.6 kB of capture each.
    capture="$build/tests/bench/simulated-${size}MB.pcap"
    if [ ! -f "$capture" ]; then
      echo "writing $capture ..."
      scenario="$build/tests/bench/simulated-${size}MB.scenario"
      python3 -c '
import sys
n = int(float(sys.argv[1]) * 1e6 / 7640) + 1
print("link default latency 1ms bandwidth 1Gbit/s")
print("device alice user alice@a.example")
print("device bob-pc user bob@b.example pull pop3 delete")
print("mailbox bob@b.example empty")
for i in range(n):
    print("at %d.%03ds send alice to bob@b.example textbook %d" % (i // 10, (i % 10) * 100, 1 + i % 2))
    print("at %d.%03ds pull bob-pc" % (i // 10, (i % 10) * 100 + 80))
' "$size" >"$scenario"
      "$build/src/cli/postlab-cli" simulate "$scenario" --pcap "$capture.part" >/dev/null
      mv "$capture.part" "$capture"
    fi
    ;;
  *)
    echo "run-bench-trace: the workload is mixed or sim, not $workload" >&2
    exit 2
    ;;
esac

echo "machine: $(nproc) CPU, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "build:   $build ($(meson configure "$build" 2>/dev/null | awk '$1 == "buildtype" { print $2 }'))"
echo "capture: $capture, $(stat -c %s "$capture") octets, $("$build/tests/bench/bench-pcap-floor" "$capture" | cut -d' ' -f1) packets"
"$build/src/cli/postlab-cli" trace --stats "$capture" 2>&1 >/dev/null | sed 's/^postlab-cli trace: /         /'
echo
python3 tests/bench/bench_trace.py "$build/src/cli/postlab-cli" "$build/tests/bench/bench-pcap-floor" \
  "$capture" "$runs" "$tshark_runs"
