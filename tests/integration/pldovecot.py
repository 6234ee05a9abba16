# SPDX-License-Identifier: GPL-3.0-or-later
"""Dovecot on a free loopback port, with a configuration of its own in a temporary folder:
one protocol (POP3 or IMAP), one user, plain text, nothing of the system's Dovecot touched.
Used by test_dovecot.py (our POP3 client against it) and by captures/make_captures.py (an
IMAP session to capture)."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from plserve import free_port

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None)
# What each protocol's server says first, once it is up.
GREETINGS = {"pop3": b"+OK", "imap": b"* OK"}


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class Dovecot:
    def __init__(self, protocol, user, password, tmp=None):
        self.protocol = protocol
        self.own_tmp = tmp is None
        self.tmp = tempfile.mkdtemp(prefix="postlab-dovecot-") if tmp is None else tmp
        # Dovecot's unprivileged helpers must reach their sockets under base_dir.
        os.chmod(self.tmp, 0o755)
        self.port = free_port()
        self.maildir = os.path.join(self.tmp, "home", user, "Maildir")
        for sub in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(self.maildir, sub))
        self.conf = os.path.join(self.tmp, "dovecot.conf")
        self.log = os.path.join(self.tmp, "dovecot.log")
        self.proc = None
        # Dovecot's passwd-file splits at ":", so no colon in the password.
        with open(os.path.join(self.tmp, "passwd"), "w") as f:
            f.write("%s:{PLAIN}%s\n" % (user, password))
        self._write_config()

    def _write_config(self):
        uid, gid = os.getuid(), os.getgid()
        if uid == 0:
            # Dovecot never accesses mail as root ("userdb returned 0 as uid"): as root, the
            # mail belongs to an unprivileged user, and its helpers run as Dovecot's own users.
            mail_user = pwd.getpwnam("nobody" if _user_exists("nobody") else "dovenull")
            uid, gid = mail_user.pw_uid, mail_user.pw_gid
            for folder, _subdirs, _files in os.walk(os.path.join(self.tmp, "home")):
                os.chown(folder, uid, gid)
            login_user = "dovenull" if _user_exists("dovenull") else "nobody"
            internal_user = "dovecot" if _user_exists("dovecot") else "nobody"
            privileges = ("first_valid_uid = %d\nfirst_valid_gid = %d\n"
                          "default_login_user = %s\ndefault_internal_user = %s\n"
                          % (min(uid, 100), min(gid, 100), login_user, internal_user))
            login_chroot = ""
        else:
            # As an ordinary user everything runs as that user, without chroot.
            user = pwd.getpwuid(uid).pw_name
            privileges = ("first_valid_uid = %d\nfirst_valid_gid = %d\n"
                          "default_login_user = %s\ndefault_internal_user = %s\n"
                          % (uid, gid, user, user))
            login_chroot = "  chroot =\n"
        self.mail_uid, self.mail_gid = uid, gid
        with open(self.conf, "w") as f:
            f.write("""# Written by Postlab's pldovecot.py: {protocol} only, loopback only, plain text.
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {log}
info_log_path = {log}
protocols = {protocol}
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0
{privileges}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {tmp}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={tmp}/home/%u
}}
mail_location = maildir:~/Maildir
service {protocol}-login {{
{login_chroot}  inet_listener {protocol} {{
    address = 127.0.0.1
    port = {port}
  }}
}}
service anvil {{
  chroot =
}}
""".format(protocol=self.protocol, tmp=self.tmp, log=self.log, privileges=privileges, uid=uid, gid=gid,
           login_chroot=login_chroot, port=self.port))

    def deliver(self, messages, names):
        """Puts @messages (bytes, LF line ends, as a Maildir holds them) in new/, under @names."""
        for name, message in zip(names, messages):
            path = os.path.join(self.maildir, "new", name)
            with open(path, "wb") as f:
                f.write(message)
            os.chown(path, self.mail_uid, self.mail_gid)

    def messages(self):
        found = []
        for sub in ("new", "cur"):
            for name in sorted(os.listdir(os.path.join(self.maildir, sub))):
                with open(os.path.join(self.maildir, sub, name), "rb") as f:
                    found.append(f.read())
        return found

    def start(self):
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("dovecot exited with %d: %s\nlog: %s" % (
                    self.proc.returncode, self.proc.stdout.read().decode("utf-8", "replace"), self.read_log()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as probe:
                    probe.settimeout(5)
                    if probe.recv(256).startswith(GREETINGS[self.protocol]):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("dovecot did not answer on port %d; log: %s" % (self.port, self.read_log()))

    def read_log(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return "(no log)"

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.proc.stdout.close()
            self.proc = None
        if self.own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
