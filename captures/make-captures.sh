#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Makes the sample captures of this folder again: `postlab-cli serve`, Dovecot (IMAP) and a
# tiny python HTTP server on free loopback ports, real clients (postlab-cli textbook, swaks,
# python's smtplib, poplib and imaplib, curl), tcpdump on lo (and on `any`). Loopback only.
#
#   sudo captures/make-captures.sh [BUILD-DIR] [NAME...]
#
# Root is needed for tcpdump. BUILD-DIR defaults to _build (postlab-cli is built first);
# NAMEs (e.g. imap-literals) make only those captures. Needs: tcpdump, swaks, curl, editcap
# (wireshark-common), dovecot-imapd, python3. Afterwards regenerate the golden transcripts:
#   meson compile -C BUILD-DIR update-goldens
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/.."

build=${1:-_build}
[ $# -gt 0 ] && shift

if [ "$(id -u)" -ne 0 ]; then
  echo "make-captures: tcpdump needs root: run it as root (sudo $0 $build)" >&2
  exit 2
fi
missing=()
for tool in tcpdump swaks curl editcap python3; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
command -v dovecot >/dev/null || [ -x /usr/sbin/dovecot ] || missing+=(dovecot)
if [ ${#missing[@]} -gt 0 ]; then
  echo "make-captures: missing ${missing[*]} (Debian: apt-get install tcpdump swaks curl wireshark-common dovecot-imapd)" >&2
  exit 2
fi
ninja -C "$build" src/cli/postlab-cli >/dev/null
exec python3 captures/make_captures.py "$build/src/cli/postlab-cli" captures "$@"
