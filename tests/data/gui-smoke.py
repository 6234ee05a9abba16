#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""GUI smoke test: `postlab --screenshot` under Xvfb draws the real window into a PNG.

Usage: gui-smoke.py [--sanitized] CASE POSTLAB XVFB_RUN [DBUS_RUN_SESSION]

CASE is `screenshot` (the PNG is written, has the window's size and shows
something), `step` (the same at a step of the default scenario),
`capture` (the same of a capture, made by postlab-cli simulate --pcap),
`present` (the same in presentation mode), `unwritable` (a PNG that cannot
be written makes postlab fail) or `bad-file` (a file that is no capture or
scenario makes postlab fail, saying why, and writes no PNG).
XVFB_RUN and DBUS_RUN_SESSION are full paths, or empty when absent: without
xvfb-run the test is skipped (77); without dbus-run-session it runs anyway.
--sanitized says postlab was built with -Db_sanitize: see run_postlab().
"""

import os
import struct
import subprocess
import sys
import tempfile
import zlib

SKIP = 77
TIMEOUT = 180
SCREEN = "1280x800x24"


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def read_png(path):
    """Decodes a non-interlaced 8- or 16-bit greyscale/RGB(A) PNG.

    Returns (width, height, rows) where rows are the unfiltered scanlines and
    each pixel takes `bpp` bytes in them; good enough for what GdkTexture
    writes, and strict about everything else.
    """
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path} is not a PNG file")

    pos = 8
    header = None
    idat = bytearray()
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc, = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(ctype + body) != crc:
            fail(f"bad CRC in the {ctype!r} chunk")
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat += body
        elif ctype == b"IEND":
            break
        pos += 12 + length
    if header is None:
        fail("the PNG has no IHDR chunk")

    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if channels is None or depth not in (8, 16) or interlace != 0:
        fail(f"unexpected PNG format: colour type {colour}, depth {depth}, interlace {interlace}")
    bpp = channels * depth // 8
    stride = width * bpp

    raw = zlib.decompress(bytes(idat))
    if len(raw) != height * (stride + 1):
        fail(f"the image data holds {len(raw)} bytes, not {height * (stride + 1)}")

    rows = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        row = bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:      # Sub
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 0xFF
        elif kind == 2:    # Up
            for i in range(stride):
                row[i] = (row[i] + previous[i]) & 0xFF
        elif kind == 3:    # Average
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:    # Paeth
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                if pa <= pb and pa <= pc:
                    predictor = a
                elif pb <= pc:
                    predictor = b
                else:
                    predictor = c
                row[i] = (row[i] + predictor) & 0xFF
        elif kind != 0:
            fail(f"unknown PNG filter {kind} on row {y}")
        rows.append(bytes(row))
        previous = row
    return width, height, bpp, rows


def colours(rows, bpp, first_row, last_row):
    """The set of distinct pixel values in rows [first_row, last_row)."""
    seen = set()
    for row in rows[first_row:last_row]:
        for x in range(0, len(row), bpp):
            seen.add(row[x:x + bpp])
    return seen


def run_postlab(postlab, xvfb_run, dbus_run_session, sanitized, output, extra=()):
    command = [xvfb_run, "-a", "-s", "-screen 0 " + SCREEN]
    # A private session bus: GTK's accessibility bus and the settings portal
    # query get a real answer, and nothing is left running afterwards.
    if dbus_run_session:
        command += [dbus_run_session, "--"]
    command += [postlab, "--screenshot", output] + list(extra)

    env = dict(os.environ)
    # Draw on the Xvfb display even inside a Wayland session.
    env["GDK_BACKEND"] = "x11"
    env.pop("WAYLAND_DISPLAY", None)
    # A broken template or a misused widget must fail the test.
    env["G_DEBUG"] = ",".join(filter(None, [env.get("G_DEBUG"), "fatal-criticals"]))
    # Under -Db_sanitize=address, only report leaks of our own code, not
    # those of fontconfig, Mesa or the X libraries loaded by GTK.
    suppressions = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan-gui.supp")
    env["LSAN_OPTIONS"] = ":".join(filter(None, [env.get("LSAN_OPTIONS"),
                                                 "suppressions=" + suppressions,
                                                 "print_suppressions=0"]))

    if sanitized:
        # Mesa's software driver leaks a little and is unloaded before
        # LeakSanitizer reports, so its leak cannot even be suppressed by
        # name. The sanitized run checks our code and draws with Cairo; the
        # plain run checks the GL renderer.
        env["GDK_DEBUG"] = ",".join(filter(None, [env.get("GDK_DEBUG"), "gl-disable"]))

    print("running: " + " ".join(command))
    result = subprocess.run(command, env=env, timeout=TIMEOUT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(result.stdout, end="")
    print(f"postlab exited with status {result.returncode}")
    for alarm in ("Sanitizer", "runtime error:", "-CRITICAL **", "-ERROR **"):
        if alarm in result.stdout:
            fail(f"postlab printed {alarm!r}")
    # GTK warns about bad templates, unknown properties, missing icons: each
    # is a bug of ours. Only a missing session bus is the machine's business.
    for line in result.stdout.splitlines():
        if "Gtk-WARNING" in line and "session bus" not in line and "accessibility bus" not in line:
            fail("GTK warned: " + line)
    return result.returncode, result.stdout


def check_picture(output, width=None, height=None):
    """The PNG exists, has the window's size, and its middle shows something."""
    if not os.path.isfile(output):
        fail("postlab exited with status 0 but wrote no file")

    w, h, bpp, rows = read_png(output)
    print(f"{output}: {w} × {h}, {bpp} bytes a pixel")
    if w <= 300 or h <= 300:
        fail(f"the picture is {w} × {h}; the window is larger than 300 × 300")
    if width is not None and (w, h) != (width, height):
        fail(f"the picture is {w} × {h}, not the window's {width} × {height}")

    everything = colours(rows, bpp, 0, h)
    print(f"{len(everything)} distinct colours in the whole picture")
    if len(everything) <= 1:
        fail("the picture is blank: a single colour")

    # The picture and the transcript fill the middle of the window: text and
    # lines there are drawn with antialiasing, so a window that rendered
    # shows many shades.
    middle = colours(rows, bpp, h // 4, 3 * h // 4)
    print(f"{len(middle)} distinct colours in the middle half")
    if len(middle) < 16:
        fail("the middle of the window looks empty: the content area drew nothing")
    return middle


def shoot(postlab, xvfb_run, dbus_run_session, sanitized, workdir, name, extra=()):
    output = os.path.join(workdir, name)
    status, printed = run_postlab(postlab, xvfb_run, dbus_run_session, sanitized, output, extra)
    if status != 0:
        fail(f"postlab --screenshot exited with status {status}")
    return output, printed


def case_screenshot(postlab, xvfb_run, dbus_run_session, sanitized, workdir):
    output, _ = shoot(postlab, xvfb_run, dbus_run_session, sanitized, workdir, "postlab.png")
    # The main window's default size (pl-window.ui).
    check_picture(output, 1280, 800)


def case_step(postlab, xvfb_run, dbus_run_session, sanitized, workdir):
    start, _ = shoot(postlab, xvfb_run, dbus_run_session, sanitized, workdir, "start.png")
    step, _ = shoot(postlab, xvfb_run, dbus_run_session, sanitized, workdir, "step.png", ["--step", "12"])
    check_picture(step, 1280, 800)
    # Step 12 is not the start: something moved, the transcript's row is marked.
    with open(start, "rb") as a, open(step, "rb") as b:
        if a.read() == b.read():
            fail("the picture at step 12 is the same as at the start")


def case_capture(postlab, xvfb_run, dbus_run_session, sanitized, workdir):
    cli = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(postlab))), "cli", "postlab-cli")
    if not os.access(cli, os.X_OK):
        fail(f"no postlab-cli next to postlab ({cli})")
    capture = os.path.join(workdir, "textbook.pcap")
    subprocess.run([cli, "simulate", "--pcap", capture], check=True, stdout=subprocess.DEVNULL)
    output, _ = shoot(postlab, xvfb_run, dbus_run_session, sanitized, workdir, "capture.png",
                      ["--step", "20", capture])
    check_picture(output, 1280, 800)


def case_present(postlab, xvfb_run, dbus_run_session, sanitized, workdir):
    output, _ = shoot(postlab, xvfb_run, dbus_run_session, sanitized, workdir, "present.png",
                      ["--present", "--step", "30"])
    # Full screen: as large as Xvfb's screen.
    width, height = (int(n) for n in SCREEN.split("x")[:2])
    check_picture(output, width, height)


def case_bad_file(postlab, xvfb_run, dbus_run_session, sanitized, workdir):
    broken = os.path.join(workdir, "broken.pcap")
    with open(broken, "w") as f:
        f.write("this is no capture\n")
    output = os.path.join(workdir, "never.png")
    status, printed = run_postlab(postlab, xvfb_run, dbus_run_session, sanitized, output, [broken])
    if status == 0:
        fail("postlab exited with status 0 though it could not open " + broken)
    if "broken.pcap" not in printed:
        fail("postlab failed without naming the file it could not open")
    if os.path.exists(output):
        fail(output + " exists")


def case_unwritable(postlab, xvfb_run, dbus_run_session, sanitized, workdir):
    output = os.path.join(workdir, "no-such-folder", "postlab.png")
    status, printed = run_postlab(postlab, xvfb_run, dbus_run_session, sanitized, output)
    if status == 0:
        fail("postlab exited with status 0 though it could not write " + output)
    if "could not write the screenshot" not in printed:
        fail("postlab failed without saying that it could not write the screenshot")
    if os.path.exists(output):
        fail(output + " exists")


CASES = {
    "screenshot": case_screenshot,
    "step": case_step,
    "capture": case_capture,
    "present": case_present,
    "unwritable": case_unwritable,
    "bad-file": case_bad_file,
}


def main():
    args = sys.argv[1:]
    sanitized = args[:1] == ["--sanitized"]
    if sanitized:
        args = args[1:]
    if len(args) not in (3, 4) or args[0] not in CASES:
        print(__doc__)
        return 2
    case, postlab, xvfb_run = args[:3]
    dbus_run_session = args[3] if len(args) == 4 else ""

    if not xvfb_run:
        print("SKIP: xvfb-run is not installed, so there is no display to draw on "
              "(on Debian: apt-get install xvfb xauth)")
        return SKIP

    with tempfile.TemporaryDirectory(prefix="postlab-gui-") as workdir:
        CASES[case](postlab, xvfb_run, dbus_run_session, sanitized, workdir)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
