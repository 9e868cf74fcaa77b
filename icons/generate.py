#!/usr/bin/env python3
"""Regenerate every Tallymesh application icon from the SVG masters.

Requirements
  * rsvg-convert (librsvg >= 2.50; Debian/Ubuntu: `apt-get install librsvg2-bin`,
    macOS: `brew install librsvg`)
  * Python 3.8+ (standard library only; no Pillow needed)

Usage
  python3 icons/generate.py          # from anywhere; writes next to this file

Masters (edit these, never the PNGs)
  icon.svg        full-detail icon, used for 44 px and up
  icon-small.svg  simplified icon for 16-32 px (bolder halves, two notches)
  mark.svg        bare mark (currentColor) for the UI; not rendered here

Outputs
  32x32.png 64x64.png 128x128.png 128x128@2x.png icon.png (512)
  icon.ico   16 24 32 48 64 256 (PNG-compressed entries)
  icon.icns  16/32 (classic RGB+mask) and 32-1024 PNG entries incl. @2x;
             drawn on Apple's grid (824 px tile centred in 1024, soft shadow)
  Square30x30Logo.png ... Square310x310Logo.png, StoreLogo.png (Windows)

All PNGs are 8-bit RGBA (Tauri's generate_context! requires RGBA).
"""
import os
import re
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
MASTER = os.path.join(HERE, "icon.svg")
SMALL = os.path.join(HERE, "icon-small.svg")
SMALL_MAX = 32  # sizes up to this use the simplified master

PNGS = {
    "32x32.png": 32,
    "64x64.png": 64,
    "128x128.png": 128,
    "128x128@2x.png": 256,
    "icon.png": 512,
    "Square30x30Logo.png": 30,
    "Square44x44Logo.png": 44,
    "Square71x71Logo.png": 71,
    "Square89x89Logo.png": 89,
    "Square107x107Logo.png": 107,
    "Square142x142Logo.png": 142,
    "Square150x150Logo.png": 150,
    "Square284x284Logo.png": 284,
    "Square310x310Logo.png": 310,
    "StoreLogo.png": 50,
}
ICO_SIZES = [16, 24, 32, 48, 64, 256]


# --------------------------------------------------------------------------
# rendering

def source_for(size):
    return SMALL if size <= SMALL_MAX else MASTER


def render(svg_path, size):
    """Render an SVG file to PNG bytes at size x size."""
    out = subprocess.run(
        ["rsvg-convert", "--format=png", "--width", str(size), "--height", str(size),
         svg_path],
        check=True, stdout=subprocess.PIPE).stdout
    w, h, depth, ctype = png_header(out)
    if (w, h) != (size, size) or depth != 8 or ctype != 6:
        sys.exit(f"rsvg-convert gave {w}x{h} depth {depth} type {ctype} for {svg_path}")
    return out


def mac_svg(svg_path):
    """Wrap a master in Apple's macOS icon grid: the tile scaled to 824/1024,
    centred, over a soft shadow cast by the master's `#tm-tile` shape.
    Returns the path of a temporary SVG."""
    text = open(svg_path, encoding="utf-8").read()
    if 'id="tm-tile"' not in text:
        sys.exit(f"{svg_path}: the background shape needs id=\"tm-tile\"")
    inner = re.search(r"<svg\b[^>]*>(.*)</svg>", text, re.S).group(1)
    # The shadow filters only the tile outline (filtering the whole artwork
    # would band its gradients).
    wrapped = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1024 1024" width="1024" height="1024">
  <defs>
    <filter id="mac-shadow" x="-10%" y="-10%" width="120%" height="125%" color-interpolation-filters="sRGB">
      <feGaussianBlur in="SourceAlpha" stdDeviation="12"/>
      <feOffset dy="10" result="blur"/>
      <feFlood flood-color="#000" flood-opacity="0.30"/>
      <feComposite in2="blur" operator="in"/>
    </filter>
  </defs>
  <g transform="translate(100 100) scale({824 / 1024})">
    <use href="#tm-tile" filter="url(#mac-shadow)"/>
    {inner}
  </g>
</svg>
"""
    fd, path = tempfile.mkstemp(suffix=".svg", dir=TMP)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(wrapped)
    return path


# --------------------------------------------------------------------------
# minimal PNG reading (8-bit RGBA, non-interlaced: what rsvg-convert writes)

def png_header(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
    return w, h, depth, ctype


def png_rgba(data):
    """Decode an 8-bit RGBA PNG into (width, height, bytearray of RGBA rows)."""
    w, h, depth, ctype = png_header(data)
    assert depth == 8 and ctype == 6 and data[28] == 0, "need 8-bit RGBA, non-interlaced"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    bpp, stride = 4, w * 4
    out = bytearray(h * stride)
    prev = bytearray(stride)
    for y in range(h):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return w, h, out


# --------------------------------------------------------------------------
# containers

def write_ico(path, images):
    """images: list of (size, png_bytes). PNG-compressed entries (Vista+)."""
    head = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, blobs = b"", b""
    for size, png in images:
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        blobs += png
        offset += len(png)
    with open(path, "wb") as f:
        f.write(head + entries + blobs)


def packbits_icns(channel):
    """Apple's icns RLE for is32/il32 channel planes."""
    out, i, n = bytearray(), 0, len(channel)
    while i < n:
        run = 1
        while i + run < n and run < 130 and channel[i + run] == channel[i]:
            run += 1
        if run >= 3:
            out += bytes([0x80 + run - 3, channel[i]])
            i += run
            continue
        start = i
        while i < n and i - start < 128:
            if i + 2 < n and channel[i] == channel[i + 1] == channel[i + 2]:
                break
            i += 1
        out += bytes([i - start - 1]) + channel[start:i]
    return bytes(out)


def classic_rgb_mask(png):
    """(rgb_rle, mask) for the classic is32/s8mk and il32/l8mk chunks."""
    w, h, px = png_rgba(png)
    planes = [bytes(px[c::4]) for c in range(4)]
    return b"".join(packbits_icns(p) for p in planes[:3]), planes[3]


def write_icns(path, render_mac):
    chunks = []

    def add(kind, data):
        chunks.append(kind.encode("ascii") + struct.pack(">I", len(data) + 8) + data)

    for size, rgb, mask in ((16, "is32", "s8mk"), (32, "il32", "l8mk")):
        rle, alpha = classic_rgb_mask(render_mac(size))
        add(rgb, rle)
        add(mask, alpha)
    for kind, size in (("ic11", 32), ("ic12", 64), ("ic07", 128), ("ic13", 256),
                       ("ic08", 256), ("ic14", 512), ("ic09", 512), ("ic10", 1024)):
        add(kind, render_mac(size))
    body = b"".join(chunks)
    with open(path, "wb") as f:
        f.write(b"icns" + struct.pack(">I", len(body) + 8) + body)


# --------------------------------------------------------------------------

def main():
    global TMP
    with tempfile.TemporaryDirectory() as TMP:
        cache = {}

        def png(size, mac=False):
            key = (size, mac)
            if key not in cache:
                src = source_for(size)
                cache[key] = render(mac_paths[src] if mac else src, size)
            return cache[key]

        mac_paths = {MASTER: mac_svg(MASTER), SMALL: mac_svg(SMALL)}

        for name, size in PNGS.items():
            with open(os.path.join(HERE, name), "wb") as f:
                f.write(png(size))
        write_ico(os.path.join(HERE, "icon.ico"), [(s, png(s)) for s in ICO_SIZES])
        write_icns(os.path.join(HERE, "icon.icns"), lambda s: png(s, mac=True))
    print(f"wrote {len(PNGS)} PNGs, icon.ico, icon.icns to {HERE}")


if __name__ == "__main__":
    main()
