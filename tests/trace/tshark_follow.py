# SPDX-License-Identifier: GPL-3.0-or-later
"""The byte-for-byte check of the tracer against tshark: for every session `postlab-cli trace`
finds, the octets of its events, concatenated per direction, must be what
`tshark -q -z follow,tcp,raw,N` gives for that TCP stream, except where a note reports a gap.

    python3 tshark_follow.py POSTLAB-CLI CAPTURE-OR-FOLDER...

Exits 77 (skipped) when tshark is absent or no capture is found, saying why."""

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
import sys

SKIP = 77
GAP_NOTE = re.compile(r"^missing (\d+) bytes? \((client to server|server to client)\)$")
TSHARK_GAP = re.compile(rb"^\[(\d+) bytes missing in capture file\]\x00?$")


def run(argv, check=True):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and proc.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), proc.returncode,
                                                   proc.stderr.decode(errors="replace")))
    return proc


def postlab_sessions(cli, capture):
    """Sessions of `postlab-cli trace --json`: endpoints, open time, and per direction a list of
    pieces, each bytes or an int (a gap of that many octets)."""
    proc = run([cli, "trace", "--json", capture], check=False)
    if proc.returncode not in (0, 1):
        raise RuntimeError("postlab-cli trace %s exited %d: %s" % (capture, proc.returncode,
                                                                   proc.stderr.decode(errors="replace")))
    sessions = {}
    for line in proc.stdout.decode().splitlines():
        obj = json.loads(line)
        kind = obj["type"]
        if kind == "session":
            sessions[obj["session"]] = {"client": obj["client"], "server": obj["server"], "t": obj["t"],
                                        "protocol": obj["protocol"], "C": [], "S": []}
        elif kind == "event":
            sessions[obj["session"]][obj["dir"]].append(base64.b64decode(obj.get("b64", "")))
        elif kind == "note":
            m = GAP_NOTE.match(obj.get("text", ""))
            if m:
                d = "C" if m.group(2) == "client to server" else "S"
                sessions[obj["session"]][d].append(int(m.group(1)))
    return sessions


def endpoint_key(text):
    return text.strip()


def tshark_streams(capture):
    """tcp.stream index -> (set of the two endpoints, first time)."""
    proc = run(["tshark", "-r", capture, "-Y", "tcp", "-T", "fields", "-E", "separator=|",
                "-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
                "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport", "-e", "frame.time_epoch"])
    streams = {}
    for line in proc.stdout.decode().splitlines():
        f = line.split("|")
        if len(f) < 8 or not f[0]:
            continue
        src = f[1].split(",")[-1] if f[1] else "[%s]" % f[2].split(",")[-1]
        dst = f[4].split(",")[-1] if f[4] else "[%s]" % f[5].split(",")[-1]
        a = "%s:%s" % (src, f[3])
        b = "%s:%s" % (dst, f[6])
        n = int(f[0])
        if n not in streams:
            streams[n] = ({a, b}, float(f[7]))
    return streams


def normalise_ipv6(endpoint):
    """tshark and Postlab may write an IPv6 address differently; compare parsed forms."""
    import ipaddress
    m = re.match(r"^\[(.*)\]:(\d+)$", endpoint)
    if m:
        return "[%s]:%s" % (ipaddress.ip_address(m.group(1)).compressed, m.group(2))
    return endpoint


def tshark_follow(capture, stream):
    """Node endpoint -> list of pieces (bytes, or int for '[N bytes missing in capture file]')."""
    proc = run(["tshark", "-r", capture, "-q", "-z", "follow,tcp,raw,%d" % stream])
    nodes = {}
    pieces = {0: [], 1: []}
    for line in proc.stdout.decode().splitlines():
        m = re.match(r"^Node (\d): (.*)$", line)
        if m:
            nodes[int(m.group(1))] = normalise_ipv6(m.group(2))
            continue
        node = 1 if line.startswith("\t") else 0
        text = line.strip()
        if not text or not re.fullmatch(r"[0-9a-fA-F]+", text) or len(text) % 2:
            continue
        data = binascii.unhexlify(text)
        g = TSHARK_GAP.match(data)
        pieces[node].append(int(g.group(1)) if g else data)
    return {nodes.get(0): pieces[0], nodes.get(1): pieces[1]}


def split(pieces):
    """Pieces as a list of contiguous byte runs and the total of gaps."""
    runs, current, gaps = [], bytearray(), 0
    for p in pieces:
        if isinstance(p, int):
            gaps += p
            if current:
                runs.append(bytes(current))
                current = bytearray()
        else:
            current += p
    if current:
        runs.append(bytes(current))
    return runs, gaps


def compare(ours, theirs, what):
    """Without gaps: equal. With gaps: each of our runs lies in tshark's stream, in order, and
    nothing tshark has between them is left out unless a note of ours reports a gap there."""
    our_runs, our_gaps = split(ours)
    their_runs, their_gaps = split(theirs)
    our_all = b"".join(our_runs)
    their_all = b"".join(their_runs)
    if our_gaps == 0 and their_gaps == 0:
        if our_all != their_all:
            at = next((i for i in range(min(len(our_all), len(their_all))) if our_all[i] != their_all[i]),
                      min(len(our_all), len(their_all)))
            return "%s: %d octets, tshark %d; first difference at %d: ours %r, tshark %r" % (
                what, len(our_all), len(their_all), at, our_all[at:at + 40], their_all[at:at + 40])
        return None
    pos = 0
    for i, run_ in enumerate(our_runs):
        found = their_all.find(run_, pos)
        if found < 0:
            return "%s: run %d of ours (%d octets, %r...) is not in tshark's stream" % (
                what, i, len(run_), run_[:40])
        if i == 0 and found != 0 and our_gaps == 0:
            return "%s: tshark has %d octets before ours with no gap noted" % (what, found)
        pos = found + len(run_)
    if pos != len(their_all) and our_gaps == 0:
        return "%s: tshark has %d more octets at the end with no gap noted" % (what, len(their_all) - pos)
    return None


def check_capture(cli, capture):
    sessions = postlab_sessions(cli, capture)
    streams = tshark_streams(capture)
    failures = []
    checked = 0
    for sid, s in sorted(sessions.items()):
        client, server = normalise_ipv6(s["client"]), normalise_ipv6(s["server"])
        candidates = [(abs(t - s["t"]), n) for n, (eps, t) in streams.items()
                      if {normalise_ipv6(e) for e in eps} == {client, server}]
        if not candidates:
            failures.append("%s session %d (%s to %s): no tshark stream has these endpoints" % (
                os.path.basename(capture), sid, client, server))
            continue
        stream = min(candidates)[1]
        follow = tshark_follow(capture, stream)
        for d, endpoint in (("C", client), ("S", server)):
            theirs = follow.get(endpoint)
            if theirs is None:
                theirs = []
            problem = compare(s[d], theirs, "%s session %d (tcp.stream %d) %s" % (
                os.path.basename(capture), sid, stream, "client to server" if d == "C" else "server to client"))
            if problem:
                failures.append(problem)
        checked += 1
    return checked, failures


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: %s POSTLAB-CLI CAPTURE-OR-FOLDER..." % sys.argv[0])
    cli = sys.argv[1]
    if shutil.which("tshark") is None:
        print("SKIP: tshark is not installed (apt-get install tshark); nothing to compare with")
        return SKIP
    captures = []
    for arg in sys.argv[2:]:
        if os.path.isdir(arg):
            captures += sorted(os.path.join(arg, f) for f in os.listdir(arg)
                               if f.endswith((".pcap", ".pcapng")))
        elif os.path.isfile(arg):
            captures.append(arg)
    if not captures:
        print("SKIP: no captures found in %s" % " ".join(sys.argv[2:]))
        return SKIP
    total, failures = 0, []
    for capture in captures:
        n, f = check_capture(cli, capture)
        print("%-55s %d sessions, %s" % (os.path.basename(capture), n, "ok" if not f else "%d FAILED" % len(f)))
        total += n
        failures += f
    for f in failures:
        print("FAIL:", f)
    print("%d sessions compared with tshark, %d differences" % (total, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
