#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs a GUI test program on a private X server (xvfb-run), with a private session bus.

Usage: run-under-xvfb.py [--sanitized] XVFB_RUN DBUS_RUN_SESSION PROGRAM [ARGS...]

XVFB_RUN and DBUS_RUN_SESSION are full paths, or empty when absent: without
xvfb-run the test is skipped (77); without dbus-run-session it runs anyway.
--sanitized says the program was built with -Db_sanitize: see gui-smoke.py
(tests/data) for why it then draws with Cairo and which leaks are not ours.
"""

import os
import subprocess
import sys

SKIP = 77
SCREEN = "1600x1000x24"


def main():
    args = sys.argv[1:]
    sanitized = args[:1] == ["--sanitized"]
    if sanitized:
        args = args[1:]
    if len(args) < 3:
        print(__doc__)
        return 2
    xvfb_run, dbus_run_session, program = args[:3]
    if not xvfb_run:
        print("SKIP: xvfb-run is not installed, so there is no display to draw on "
              "(on Debian: apt-get install xvfb xauth)")
        return SKIP

    command = [xvfb_run, "-a", "-s", "-screen 0 " + SCREEN]
    if dbus_run_session:
        command += [dbus_run_session, "--"]
    command += [program] + args[3:]

    env = dict(os.environ)
    env["GDK_BACKEND"] = "x11"
    env.pop("WAYLAND_DISPLAY", None)
    # The theme's defaults, whatever the machine's settings.
    env.pop("GTK_THEME", None)
    here = os.path.dirname(os.path.abspath(__file__))
    suppressions = os.path.join(here, "..", "data", "lsan-gui.supp")
    env["LSAN_OPTIONS"] = ":".join(filter(None, [env.get("LSAN_OPTIONS"),
                                                 "suppressions=" + os.path.normpath(suppressions),
                                                 "print_suppressions=0"]))
    if sanitized:
        env["GDK_DEBUG"] = ",".join(filter(None, [env.get("GDK_DEBUG"), "gl-disable"]))

    print("running: " + " ".join(command), flush=True)
    return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
