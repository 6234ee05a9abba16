#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark of the simulator (not a meson test): 10,000 messages through the whole path
# (submission with AUTH, relay with its DNS step, POP3 download-and-delete), five runs
# each way, the median of events per second and of peak memory; then how memory grows
# with the number of messages, against the size of the trace.
#
#   tests/bench/run-bench-sim.sh [BUILD-DIR] [RUNS]
#
# BUILD-DIR defaults to _build (bench-sim is built with the rest: ninja -C BUILD-DIR).
# "retained" keeps every event in the PlTrace, as the GUI does; "streamed" keeps none,
# as `postlab-cli simulate` does while it prints. Nothing is printed while timing.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${1:-_build}
runs=${2:-5}
bench="$build/tests/bench/bench-sim"
if [ ! -x "$bench" ]; then
  echo "run-bench-sim: no $bench; build first: ninja -C $build" >&2
  exit 2
fi

field() {  # field NAME LINE
  sed -n "s/.* $1=\([0-9.]*\).*/\1/p; s/^$1=\([0-9.]*\).*/\1/p" <<<"$2" | head -1
}

median() {
  sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "machine: $(nproc) CPU, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "build:   $build ($(meson configure "$build" 2>/dev/null | awk '$1 == "buildtype" { print $2 }'))"
for mode in retained streamed; do
  args=(-n 10000)
  [ "$mode" = streamed ] && args+=(--stream)
  rates=() ; rss=() ; line=""
  for _ in $(seq "$runs"); do
    line=$("$bench" "${args[@]}")
    rates+=("$(field events_per_s "$line")")
    rss+=("$(field maxrss_kib "$line")")
  done
  echo
  echo "$mode, 10000 messages, $runs runs: $line"
  printf '  protocol events per second: median %s (runs: %s)\n' \
    "$(printf '%s\n' "${rates[@]}" | median)" "${rates[*]}"
  printf '  peak memory (ru_maxrss):    median %s KiB (runs: %s)\n' \
    "$(printf '%s\n' "${rss[@]}" | median)" "${rss[*]}"
done

echo
echo "memory against the trace (one run each; KiB of peak RSS; 'scenario' is the peak before the run,"
echo "from reading the scenario's text; 'per 1k events' is what the retained run adds on top):"
printf '  %8s %10s %10s %10s %10s %14s %10s\n' messages events trace scenario retained "per 1k events" streamed
for n in 1000 5000 10000 20000; do
  r=$("$bench" -n "$n")
  s=$("$bench" -n "$n" --stream)
  ev=$(field retained_events "$r")
  kib=$(field maxrss_kib "$r")
  before=$(field maxrss_before_run_kib "$r")
  printf '  %8s %10s %10s %10s %10s %14.1f %10s\n' "$n" "$ev" "$(field trace_kib "$r")" "$before" "$kib" \
    "$(awk -v k="$kib" -v b="$before" -v e="$ev" 'BEGIN { print (k - b) * 1000 / e }')" "$(field maxrss_kib "$s")"
done
