#!/usr/bin/env bash
# Rebuild assets/fonts/NotoSansSC-udpdesk-subset.otf: Noto Sans CJK SC Regular
# (face 2 of Debian's NotoSansCJK-Regular.ttc) cut to GB2312 + ASCII/Latin-1,
# punctuation, arrows, box drawing, fullwidth forms and kana.
#
# Usage:  bash assets/fonts/make_font_subset.sh   (as root, or with sudo available)
# Output is byte-for-byte reproducible given the same Debian font package
# (fonts-noto-cjk 1:20220127+repack1-1) and the pinned fonttools version below.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/NotoSansSC-udpdesk-subset.otf"
TTC=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
FACE=2                       # 0 JP, 1 KR, 2 SC, 3 TC, 4 HK, ...
FONTTOOLS_VERSION=4.68.0
# Fixed timestamp for head.modified so the output is deterministic
# (fontTools honours SOURCE_DATE_EPOCH). 2022-01-27, the upstream release.
export SOURCE_DATE_EPOCH=1643241600

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

# 1. Tools and the source font.
if [ ! -f "$TTC" ]; then
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends fonts-noto-cjk
fi
if ! python3 -c "import fontTools, sys; sys.exit(fontTools.version != '$FONTTOOLS_VERSION')" 2>/dev/null; then
    python3 -m pip install --quiet "fonttools==$FONTTOOLS_VERSION"
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# 2. Check that face $FACE really is Simplified Chinese.
python3 - "$TTC" "$FACE" <<'PY'
import sys
from fontTools.ttLib import TTFont
name = TTFont(sys.argv[1], fontNumber=int(sys.argv[2]), lazy=True)["name"].getDebugName(4)
if name != "Noto Sans CJK SC":
    sys.exit(f"face {sys.argv[2]} is {name!r}, expected 'Noto Sans CJK SC'")
PY

# 3. Character list: every character encodable in GB2312 plus extra ranges.
python3 - > "$WORK/unicodes.txt" <<'PY'
cps = set()
# GB2312: every valid 2-byte sequence, rows 0xA1-0xF7 x cols 0xA1-0xFE.
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            s = bytes((hi, lo)).decode("gb2312")
        except UnicodeDecodeError:
            continue
        cps.update(ord(c) for c in s)
ranges = [
    (0x0020, 0x007E),  # printable ASCII
    (0x00A0, 0x00FF),  # Latin-1 supplement
    (0x2000, 0x206F),  # general punctuation (incl. … U+2026)
    (0x2190, 0x2193),  # arrows ← ↑ → ↓
    (0x22EF, 0x22EF),  # ⋯ midline horizontal ellipsis
    (0x2500, 0x257F),  # box drawing
    (0x3000, 0x303F),  # CJK symbols & punctuation
    (0x3040, 0x30FF),  # hiragana + katakana
    (0xFF00, 0xFFEF),  # halfwidth & fullwidth forms
]
for a, b in ranges:
    cps.update(range(a, b + 1))
for cp in sorted(cps):
    print(f"U+{cp:04X}")
PY

# 4. Subset. Layout features dropped (egui does no shaping), hinting dropped,
#    CFF desubroutinized (larger but simple for any parser), vertical-metrics
#    tables dropped (egui lays out horizontally only). Name table keeps
#    English records 0-7 and 13-14 (copyright, names, trademark, licence).
pyftsubset "$TTC" \
    --font-number="$FACE" \
    --unicodes-file="$WORK/unicodes.txt" \
    --layout-features='' \
    --no-hinting \
    --desubroutinize \
    --drop-tables+=vhea,vmtx,VORG \
    --name-IDs=0,1,2,3,4,5,6,7,13,14 \
    --name-languages=0x409 \
    --output-file="$OUT"

# 5. Verify: a plain OpenType/CFF font (not a collection) with the key glyphs.
python3 - "$OUT" <<'PY'
import os, sys
from fontTools.ttLib import TTFont
path = sys.argv[1]
with open(path, "rb") as fh:
    magic = fh.read(4)
assert magic == b"OTTO", f"unexpected sfnt tag {magic!r}"
f = TTFont(path)
cmap = f.getBestCmap()
need = "你好世界收到的消息了，、←→…"
missing = [c for c in need if ord(c) not in cmap]
assert not missing, f"missing from cmap: {missing}"
print(f"{path}: {os.path.getsize(path)} bytes, face {f['name'].getDebugName(4)!r}, "
      f"{f['maxp'].numGlyphs} glyphs, {len(cmap)} cmap entries")
PY
