#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs a validator on a data file, or skips the test (exit 77) when it is not installed.
#
# Usage: run-validator.sh NAME PACKAGE PROGRAM ARGS...
# PROGRAM is the validator's full path, or empty when meson did not find it.

name=$1
package=$2
program=$3
shift 3

if [ -z "$program" ] || [ ! -x "$program" ]; then
  echo "SKIP: $name is not installed (on Debian: apt-get install $package)"
  exit 77
fi

echo "$name $*"
exec "$program" "$@"
