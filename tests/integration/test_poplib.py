#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Python's poplib, a real POP3 client, against `postlab-cli serve`."""

import poplib

from plserve import Server, check, check_equal, cli_from_argv, run_tests

CLI = cli_from_argv()


def lines_of(message):
    """What poplib hands back for a message: its lines without line ends, dots un-stuffed."""
    return message.split(b"\r\n")[:-1]


def test_full_dialogue():
    with Server(CLI) as server:
        m1, m2 = server.textbook_messages()
        pop = poplib.POP3("127.0.0.1", server.port, timeout=10)
        check_equal(pop.getwelcome(), b"+OK POP3 server ready", "welcome")
        check(pop.user("bob").startswith(b"+OK"), "USER")
        check_equal(pop.pass_("hungry"), b"+OK user successfully logged on", "PASS")

        check_equal(pop.stat(), (2, 1410), "STAT")
        resp, listing, _ = pop.list()
        check(resp.startswith(b"+OK"), resp)
        check_equal(listing, [b"1 498", b"2 912"], "LIST")
        check_equal(pop.list(2), b"+OK 2 912", "LIST 2")

        resp, uids, _ = pop.uidl()
        check_equal(len(uids), 2, "UIDL entries")
        numbers = [u.split()[0] for u in uids]
        check_equal(numbers, [b"1", b"2"], "UIDL numbers")
        uid1, uid2 = (u.split()[1] for u in uids)
        check(uid1 != uid2, "UIDs differ")
        check(all(0x21 <= c <= 0x7e for c in uid1 + uid2), "UIDs are printable (RFC 1939 UIDL)")
        check_equal(pop.uidl(1), b"+OK 1 " + uid1, "UIDL 1")

        # TOP n 0: the header and the empty line; TOP n 3: plus three body lines.
        header = m1.split(b"\r\n\r\n", 1)[0]
        resp, top, _ = pop.top(1, 0)
        check_equal(top, header.split(b"\r\n") + [b""], "TOP 1 0")
        resp, top, _ = pop.top(2, 3)
        head2, body2 = m2.split(b"\r\n\r\n", 1)
        check_equal(top, head2.split(b"\r\n") + [b""] + body2.split(b"\r\n")[:3], "TOP 2 3")

        resp, lines, octets = pop.retr(1)
        check_equal(lines, lines_of(m1), "RETR 1")
        resp, lines, octets = pop.retr(2)
        check_equal(lines, lines_of(m2), "RETR 2 (poplib un-stuffs the dot line)")

        check(pop.dele(1).startswith(b"+OK"), "DELE 1")
        check_equal(pop.stat(), (1, 912), "STAT after DELE 1")
        check_equal(pop.list()[1], [b"2 912"], "LIST after DELE 1")
        try:
            pop.retr(1)
            raise AssertionError("RETR of a deleted message succeeded")
        except poplib.error_proto as error:
            check(str(error).startswith("b'-ERR"), str(error))
        check(pop.rset().startswith(b"+OK"), "RSET")
        check_equal(pop.stat(), (2, 1410), "STAT after RSET")
        check_equal(pop.noop(), b"+OK", "NOOP")

        check(pop.dele(2).startswith(b"+OK"), "DELE 2")
        check_equal(pop.quit(), b"+OK POP3 server signing off", "QUIT")

        # A new session: message 2 is gone, message 1 keeps its number 1 and its UID.
        pop = poplib.POP3("127.0.0.1", server.port, timeout=10)
        pop.user("bob")
        pop.pass_("hungry")
        check_equal(pop.stat(), (1, 498), "STAT in the next session")
        check_equal(pop.uidl(1), b"+OK 1 " + uid1, "UIDL is stable across sessions")
        check_equal(pop.retr(1)[1], lines_of(m1), "RETR 1 in the next session")
        pop.quit()
        check_equal(server.messages_on_disk(), [m1], "the Maildir")
        server.stop()


def test_wrong_password():
    with Server(CLI) as server:
        pop = poplib.POP3("127.0.0.1", server.port, timeout=10)
        pop.user("bob")
        try:
            pop.pass_("not-hungry")
            raise AssertionError("a wrong password was accepted")
        except poplib.error_proto as error:
            check("-ERR" in str(error), str(error))
        pop.user("bob")
        check(pop.pass_("hungry").startswith(b"+OK"), "the right password after a wrong one")
        pop.quit()
        server.stop()


def test_capa():
    with Server(CLI) as server:
        pop = poplib.POP3("127.0.0.1", server.port, timeout=10)
        caps = pop.capa()
        for name in ("USER", "UIDL", "TOP"):
            check(name in caps, "CAPA lists %s: %r" % (name, caps))
        pop.quit()
        server.stop()


run_tests([
    ("USER/PASS, STAT, LIST, UIDL, TOP, RETR, DELE, RSET, NOOP, QUIT", test_full_dialogue),
    ("wrong password, then the right one", test_wrong_password),
    ("CAPA", test_capa),
])
