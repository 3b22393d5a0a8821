#!/usr/bin/env python3
"""Generate assets/icon.png, the udpdesk window icon (256x256 RGBA).

Design: a rounded square in deep teal with "UDP" in white bold letters between
two opposing arrows (-> on top in white, <- below in amber): datagrams going
both ways. Drawn at 4x and downscaled for clean anti-aliasing; readable at 32x32.

Needs Pillow (`pip install pillow`) and DejaVu Sans Bold (Debian package
`fonts-dejavu-core`). Usage: python3 assets/make_icon.py [output.png]
"""
import os
import sys

from PIL import Image, ImageDraw, ImageFont

SIZE = 256
SS = 4  # supersampling factor
S = SIZE * SS

TOP = (20, 128, 140)      # teal
BOTTOM = (10, 70, 98)     # deep blue-teal
WHITE = (255, 255, 255, 255)
AMBER = (255, 196, 77, 255)

FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/Library/Fonts/DejaVuSans-Bold.ttf",
    "DejaVuSans-Bold.ttf",
]


def load_font(px):
    for path in FONT_CANDIDATES:
        try:
            return ImageFont.truetype(path, px)
        except OSError:
            continue
    sys.exit("DejaVu Sans Bold not found: apt-get install fonts-dejavu-core")


def arrow(draw, y, x0, x1, thick, head_len, head_half, color, pointing_right):
    """Horizontal arrow centred on y from x0 to x1 (x0 < x1)."""
    t = thick / 2
    if pointing_right:
        tip, base = x1, x1 - head_len
        draw.rectangle([x0, y - t, base + 1, y + t], fill=color)
        draw.polygon([(base, y - head_half), (tip, y), (base, y + head_half)], fill=color)
        draw.ellipse([x0 - t, y - t, x0 + t, y + t], fill=color)  # round tail
    else:
        tip, base = x0, x0 + head_len
        draw.rectangle([base - 1, y - t, x1, y + t], fill=color)
        draw.polygon([(base, y - head_half), (tip, y), (base, y + head_half)], fill=color)
        draw.ellipse([x1 - t, y - t, x1 + t, y + t], fill=color)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "icon.png")

    # Background: vertical gradient clipped to a rounded square.
    grad = Image.new("RGBA", (S, S))
    gd = ImageDraw.Draw(grad)
    for yy in range(S):
        f = yy / (S - 1)
        c = tuple(round(a + (b - a) * f) for a, b in zip(TOP, BOTTOM))
        gd.line([(0, yy), (S, yy)], fill=c + (255,))
    mask = Image.new("L", (S, S), 0)
    margin = 8 * SS
    ImageDraw.Draw(mask).rounded_rectangle([margin, margin, S - 1 - margin, S - 1 - margin], radius=48 * SS, fill=255)
    img = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    img.paste(grad, (0, 0), mask)

    d = ImageDraw.Draw(img)

    # Arrows: -> on top (white), <- at the bottom (amber).
    x0, x1 = 52 * SS, 204 * SS
    arrow(d, 64 * SS, x0, x1, 20 * SS, 40 * SS, 30 * SS, WHITE, True)
    arrow(d, 192 * SS, x0, x1, 20 * SS, 40 * SS, 30 * SS, AMBER, False)

    # "UDP" centred between the arrows.
    font = load_font(76 * SS)
    text = "UDP"
    l, t, r, b = d.textbbox((0, 0), text, font=font)
    cx, cy = S / 2, 128 * SS
    d.text((cx - (l + r) / 2, cy - (t + b) / 2), text, font=font, fill=WHITE)

    img = img.resize((SIZE, SIZE), Image.LANCZOS)
    img.save(out, "PNG", optimize=True)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
