#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check_thumbnails.py make DIR N | check SHOT N [SHOWN]

make: writes N PNG images of N distinct solid colours, of different sizes
(so that they take different times to decode), named img-000.png ...
check: finds each colour in the screenshot SHOT and checks that the first
SHOWN images (N by default) are there, in reading order (left to right,
then top to bottom), and that no other one is."""

import colorsys
import sys

import gi

gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf  # noqa: E402


def colour(i, n):
    r, g, b = colorsys.hsv_to_rgb(i / n, 1.0, 0.6 + 0.4 * (i % 2))
    return int(r * 255), int(g * 255), int(b * 255)


def make(directory, n):
    for i in range(n):
        size = 160 + (i * 97) % 640
        pixbuf = GdkPixbuf.Pixbuf.new(GdkPixbuf.Colorspace.RGB, False, 8, size, size)
        r, g, b = colour(i, n)
        pixbuf.fill((r << 24) | (g << 16) | (b << 8) | 0xFF)
        pixbuf.savev("%s/img-%03d.png" % (directory, i), "png", [], [])


def check(shot, n, shown):
    pixbuf = GdkPixbuf.Pixbuf.new_from_file(shot)
    width, height = pixbuf.get_width(), pixbuf.get_height()
    stride, channels = pixbuf.get_rowstride(), pixbuf.get_n_channels()
    data = pixbuf.get_pixels()
    wanted = {colour(i, n): i for i in range(n)}
    found = {}
    for y in range(0, height, 2):
        row = y * stride
        for x in range(0, width, 2):
            p = row + x * channels
            i = wanted.get((data[p], data[p + 1], data[p + 2]))
            if i is not None:
                sx, sy, count = found.get(i, (0, 0, 0))
                found[i] = (sx + x, sy + y, count + 1)
    # A thumbnail is tens of pixels wide: a handful of matches is noise.
    seen = {i: (sx / c, sy / c) for i, (sx, sy, c) in found.items() if c >= 100}
    missing = [i for i in range(shown) if i not in seen]
    extra = [i for i in seen if i >= shown]
    if missing or extra:
        sys.exit("missing thumbnails %s, unexpected %s" % (missing, extra))
    for i in range(shown - 1):
        (x0, y0), (x1, y1) = seen[i], seen[i + 1]
        same_row = abs(y1 - y0) < 20
        if not ((same_row and x1 > x0) or (not same_row and y1 > y0)):
            sys.exit("thumbnail %d at %s comes before %d at %s" % (i + 1, seen[i + 1], i, seen[i]))
    rows = len({round(y / 20) for _, y in seen.values()})
    print("ok: %d thumbnails in order, on %d rows" % (shown, rows))


def main():
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    else:
        n = int(sys.argv[3])
        check(sys.argv[2], n, int(sys.argv[4]) if len(sys.argv) > 4 else n)


if __name__ == "__main__":
    main()
