#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs a libFuzzer target for a bounded time (a meson test of a -Dfuzzing=true build):
#
#   run-libfuzzer.sh FUZZER SECONDS DICT CORPUS-DIR...
#
# The CORPUS-DIRs (in the source tree) are read as seeds, never written: new inputs go to
# FUZZER.corpus/ and a crash to FUZZER.crash-*, beside the program in the build folder.
# Exits 1 when libFuzzer finds a crash, a leak or a timeout (libFuzzer's own default, 77, is what
# meson reads as "skipped").
set -eu
fuzzer=$1
seconds=$2
dict=$3
shift 3
work="$fuzzer.corpus"
mkdir -p "$work"
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -error_exitcode=1 -timeout_exitcode=1 \
  -dict="$dict" -artifact_prefix="$fuzzer." -print_final_stats=1 "$work" "$@"
