#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark of the GTK application (not a meson test): a trace of 1,000,000 events in
# the window; the time until its first rows show, GdkFrameClock frame times while the
# transcript scrolls through it and while the picture animates at 8x, and the CPU used
# while paused. Runs on a private X server.
#
#   tests/bench/run-bench-gui.sh [BUILD-DIR] [EVENTS]
#
# BUILD-DIR defaults to _build (bench-gui is built with the rest: ninja -C BUILD-DIR).
# Targets (issue #6): first rows in under 1 s, 60 frames per second (16.7 ms a frame),
# no CPU use while paused. Xvfb paces frames at 60 Hz and draws with Mesa's llvmpipe,
# so *_paint_* (the work of a frame) says more about a real machine than *_ms intervals.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${1:-_build}
events=${2:-1000000}
bench="$build/tests/app/bench-gui"
if [ ! -x "$bench" ]; then
  echo "run-bench-gui: no $bench; build first: ninja -C $build" >&2
  exit 2
fi
command -v xvfb-run >/dev/null || { echo "run-bench-gui: needs xvfb-run (apt-get install xvfb xauth)" >&2; exit 2; }

echo "machine: $(nproc) CPU, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "build:   $build ($(meson configure "$build" 2>/dev/null | awk '$1 == "buildtype" { print $2 }'))"
# Twice: with GTK's GL renderer (on Xvfb that is Mesa's llvmpipe, software GL) and with
# its Cairo renderer; and once more with the transcript jumping 6,700 rows a frame.
for run in gl cairo "cairo BENCH_JUMP=1"; do
  renderer=${run%% *}
  extra=()
  [ "$run" != "$renderer" ] && extra=("${run#* }")
  line=$(env GSK_RENDERER="$renderer" "${extra[@]}" GDK_BACKEND=x11 \
           xvfb-run -a -s "-screen 0 1920x1080x24" "$bench" "$events" 2>/dev/null | tail -1)
  echo
  echo "GSK_RENDERER=$run:"
  echo "$line" | tr ' ' '\n' | grep -E 'events|first|_median|_p95|steps|idle' | sed 's/^/  /'
done
