# SPDX-License-Identifier: GPL-3.0-or-later
"""postlab-cli trace as a user runs it: files and standard input, text and JSON, --session,
--explain, -f, and damaged files (a message naming the file and the offset, exit 1, and what
came before still printed).

    python3 test_trace_cli.py POSTLAB-CLI"""

import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcapgen import Pcap, textbook_pop3  # noqa: E402


def run(cli, args, stdin=None):
    proc = subprocess.run([cli, "trace"] + args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def set_u32(data, at, value):
    return data[:at] + struct.pack("<I", value) + data[at + 4:]


def check_direct_reader(cli, tmp, data):
    """A pcap file named by its path is read without libpcap while its records are ordinary, and
    libpcap takes over at the first that is not (or at the end): whatever the file holds, the
    transcript, the messages and the exit status are those of standard input, which libpcap
    reads all along."""
    records = []
    at = 24
    while at + 16 <= len(data):
        records.append(at)
        at += 16 + struct.unpack_from("<I", data, at + 8)[0]
    middle = records[len(records) // 2]
    variants = {
        "good": data,
        "nanoseconds": struct.pack("<I", 0xa1b23c4d) + data[4:],
        "truncated-header": data[:records[-1] + 9],
        "truncated-data": data[:-3],
        "caplen-over-len": set_u32(data, middle + 12, struct.unpack_from("<I", data, middle + 8)[0] - 1),
        "record-over-256k": set_u32(set_u32(data, middle + 8, 300000), middle + 12, 300000),
        "over-snaplen": set_u32(data, 16, 60),
        "trailing-octets": data + b"\x01\x02",
    }
    for name, octets in variants.items():
        path = os.path.join(tmp, name + ".pcap")
        with open(path, "wb") as f:
            f.write(octets)
        for args in ([], ["--json"]):
            code, out, err = run(cli, args + [path])
            code2, out2, err2 = run(cli, args + ["-"], stdin=octets)
            check(code == code2, "%s: exit %d from the file, %d from standard input" % (name, code, code2))
            check(out == out2, "%s %s: the file and standard input give the same transcript" % (name, args))
            check(err.replace(path, "standard input") == err2,
                  "%s: the same messages: %r, %r" % (name, err, err2))


def check_ctrl_c(cli, data):
    """`tcpdump -w - | postlab-cli trace -` ended with Ctrl-C: what was read is shown, in whole
    lines (valid JSON), each open session closed, a word on standard error, exit 0; also while the
    read waits for more of the pipe."""
    # Everything but the last two records (the server's "+OK bye" and the FIN): the pipe stays open.
    cut = len(data) - (16 + 54) - (16 + 54 + 24)
    proc = subprocess.Popen([cli, "trace", "--json", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdin.write(data[:cut])
    proc.stdin.flush()
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("trace - did not end after SIGINT while waiting on its pipe")
    out, err = out.decode(), err.decode()
    check(proc.returncode == 0, "Ctrl-C ends trace cleanly: exit %d, %s" % (proc.returncode, err))
    objs = [json.loads(line) for line in out.splitlines()]
    check(any(o["type"] == "event" and o.get("verb") == "QUIT" for o in objs), "what was read is shown: %s" % out)
    check(objs[-1]["type"] == "end", "the open session is closed: %r" % objs[-1])
    check("stopped after" in err, "a word on standard error: %r" % err)


def main():
    cli = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="postlab-trace-")
    good = os.path.join(tmp, "textbook.pcap")
    data = textbook_pop3().bytes()
    with open(good, "wb") as f:
        f.write(data)

    code, out, err = run(cli, [good])
    check(code == 0, "a good file exits 0: %d %s" % (code, err))
    check(out.startswith("* session 1: pop3, client 192.0.2.1:40312, server 192.0.2.25:110 (access)\n"),
          "the session header: %r" % out[:120])
    check("C: user bob" in out and "S: +OK\n" in out and "1 498" in out and out.rstrip().endswith("* session 1 ended"),
          "the transcript: %s" % out)

    code2, out2, _ = run(cli, ["-"], stdin=data)
    check(code2 == 0 and out2 == out, "standard input gives the same transcript")

    code, out, err = run(cli, ["--json", good])
    objs = [json.loads(line) for line in out.splitlines()]
    check(objs[0]["type"] == "session" and objs[0]["protocol"] == "pop3", "JSON session first")
    check(objs[-1]["type"] == "end", "JSON end last")
    check(sum(1 for o in objs if o["type"] == "event") == 9, "nine events")

    code, out, err = run(cli, ["--explain", good])
    check("RFC 1939" in out, "--explain names the RFC")

    code, out, err = run(cli, ["--session", "2", good])
    check(code == 1 and "no session 2" in err, "--session of a session not there: %d %s" % (code, err))

    code, out, err = run(cli, ["-f", "tcp port 9", good])
    check(code == 0 and out == "" and "no mail sessions" in err, "a filter that keeps nothing")

    code, out, err = run(cli, ["-f", "this is not bpf", good])
    check(code == 2 and "does not compile" in err, "a bad filter is a usage error")

    code, out, err = run(cli, [os.path.join(tmp, "missing.pcap")])
    check(code == 2 and "missing.pcap" in err, "a file that is not there: exit 2")

    empty = os.path.join(tmp, "empty.pcap")
    open(empty, "wb").close()
    code, out, err = run(cli, [empty])
    check(code == 1 and "empty.pcap" in err and "offset 0" in err and "empty" in err, "empty file: %s" % err)

    text = os.path.join(tmp, "notes.txt")
    with open(text, "w") as f:
        f.write("Dear class,\nthis is not a capture.\n")
    code, out, err = run(cli, [text])
    check(code == 1 and "notes.txt" in err and "text file" in err, "text file: %s" % err)

    # The last record cut short: the message names where it starts, and the rest was printed.
    truncated = os.path.join(tmp, "truncated.pcap")
    with open(truncated, "wb") as f:
        f.write(data[:-7])
    last = len(data) - (16 + 54)
    code, out, err = run(cli, [truncated])
    check(code == 1 and "truncated.pcap" in err and ("offset %d" % last) in err, "truncated: %s" % err)
    check("S: +OK POP3 server signing off" in out, "what came before the damage is printed")
    code, out, err = run(cli, ["-"], stdin=data[:-7])
    check(code == 1 and "standard input" in err and ("offset %d" % last) in err, "truncated on a pipe: %s" % err)

    # A TCP header length of 16: named, skipped, the rest traced, exit 1.
    p = Pcap()
    p.handshake().send(False, b"+OK hello\r\n").segment(True, 0x18, b"user bob\r\n", doff=4)
    p.send(True, b"quit\r\n").send(False, b"+OK bye\r\n").close()
    bad_tcp = os.path.join(tmp, "badtcp.pcap")
    with open(bad_tcp, "wb") as f:
        f.write(p.bytes())
    code, out, err = run(cli, [bad_tcp])
    check(code == 1 and "badtcp.pcap" in err and ("offset %d" % (24 + 3 * 70 + 16 + 54 + 11)) in err and "below the minimum of 20" in err,
          "TCP header below 20: %s" % err)
    check("S: +OK bye" in out, "the rest is traced")

    check_direct_reader(cli, tmp, data)
    check_ctrl_c(cli, data)

    print("postlab-cli trace: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
