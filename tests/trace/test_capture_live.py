# SPDX-License-Identifier: GPL-3.0-or-later
"""postlab-cli capture on the loopback interface: a POP3 dialogue on a free loopback port shows
up line by line while it happens; Ctrl-C (SIGINT) ends the capture cleanly and the -w file is
whole. Without the right to capture, the message says how to get it and the exit status is 2.

    python3 test_capture_live.py POSTLAB-CLI"""

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def no_permission_message(cli):
    """Without CAP_NET_RAW the capture must say how to get it. As root, drop it with setpriv."""
    argv = [cli, "capture", "-i", "lo", "-c", "1"]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            return False
        argv = [setpriv, "--bounding-set=-net_raw,-net_admin", "--inh-caps=-net_raw,-net_admin"] + argv
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    err = proc.stderr.decode()
    if proc.returncode == 0:
        return None  # this process may capture after all
    check(proc.returncode == 2, "no permission: exit 2, got %d (%s)" % (proc.returncode, err))
    check("permission" in err and "setcap cap_net_raw,cap_net_admin=eip" in err and "root" in err,
          "the message says how to get the right: %s" % err)
    return True


def serve_pop3(listener):
    conn, _ = listener.accept()
    with conn:
        f = conn.makefile("rwb", buffering=0)
        f.write(b"+OK POP3 server ready\r\n")
        for line in f:
            verb = line.split()[0].upper() if line.split() else b""
            if verb == b"LIST":
                f.write(b"+OK\r\n1 498\r\n.\r\n")
            elif verb == b"QUIT":
                f.write(b"+OK POP3 server signing off\r\n")
                break
            else:
                f.write(b"+OK\r\n")
        f.close()


_pending = {"buf": b""}


def read_json_lines(proc, until, timeout):
    """Lines of the capture's output, read while it still runs, up to the one @until accepts;
    what was read past it is kept for the next call."""
    got, end = [], time.time() + timeout
    fd = proc.stdout.fileno()
    while time.time() < end:
        buf, _pending["buf"] = _pending["buf"], b""
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            obj = json.loads(line)
            got.append(obj)
            if until(obj):
                _pending["buf"] = buf
                return got
        _pending["buf"] = buf
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        _pending["buf"] += chunk
    raise AssertionError("the capture did not show it in time; got %r" % got)


def main():
    cli = sys.argv[1]
    permission = no_permission_message(cli)
    if permission is False:
        print("note: setpriv is absent, the no-permission message was not checked")
    if os.geteuid() != 0 and permission is True:
        print("SKIP: this user may not capture (the message for that was checked); the live part needs root")
        return SKIP

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    tmp = tempfile.mkdtemp(prefix="postlab-capture-")
    out_pcap = os.path.join(tmp, "live.pcap")

    proc = subprocess.Popen([cli, "capture", "-i", "lo", "-f", "tcp port %d" % port, "--json", "-w", out_pcap],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Wait for it to listen before talking.
        line = b""
        end = time.time() + 15
        while b"listening" not in line and time.time() < end:
            ready, _, _ = select.select([proc.stderr], [], [], 0.5)
            if ready:
                line = proc.stderr.readline()
                if not line:
                    break
        if b"listening" not in line:
            proc.kill()
            err = proc.stderr.read().decode()
            if "permission" in err:
                print("SKIP: no permission to capture here: %s" % err)
                return SKIP
            raise AssertionError("capture did not start: %r %s" % (line, err))
        time.sleep(0.3)

        server = threading.Thread(target=serve_pop3, args=(listener,), daemon=True)
        server.start()
        client = socket.create_connection(("127.0.0.1", port))
        f = client.makefile("rwb", buffering=0)
        check(f.readline() == b"+OK POP3 server ready\r\n", "greeting")
        f.write(b"user bob\r\n")
        f.readline()
        # The transcript shows the dialogue while the connection is still open: live.
        got = read_json_lines(proc, lambda o: o.get("verb") == "USER", 10)
        check(any(o["type"] == "session" and o["protocol"] == "pop3" for o in got), "session seen live")
        f.write(b"list\r\n")
        for _ in range(3):
            f.readline()
        f.write(b"quit\r\n")
        f.readline()
        f.close()       # the socket closes (FIN) only once its file is closed too
        client.close()
        server.join(5)
        got += read_json_lines(proc, lambda o: o["type"] == "end", 10)
        events = [o for o in got if o["type"] == "event"]
        check([o.get("verb") or o.get("status") for o in events] ==
              ["+OK", "USER", "+OK", "LIST", "+OK", "QUIT", "+OK"], "the live transcript: %r" % events)

        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        check(proc.returncode == 0, "Ctrl-C ends it cleanly: %d %s" % (proc.returncode, err.decode()))
        check(b"packets captured" in err, "a count at the end")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    # The -w file is whole and gives the same transcript.
    again = subprocess.run([cli, "trace", "--json", out_pcap], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(again.returncode == 0, "the written capture reads back: %s" % again.stderr.decode())
    replay = [json.loads(l) for l in again.stdout.decode().splitlines() if '"type":"event"' in l]
    check([o.get("verb") or o.get("status") for o in replay] == [o.get("verb") or o.get("status") for o in events],
          "the written capture gives the same events")
    print("postlab-cli capture: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
