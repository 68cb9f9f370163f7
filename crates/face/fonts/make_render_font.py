"""Derive the renderer's font (NotoSansSC-Regular-GB2312.ttf) from the GB 2312 subset.

    python3 make_render_font.py NotoSansSC-Regular-GB2312.otf NotoSansSC-Regular-GB2312.ttf

Input: the OTF made by the fontTools subset command in README.md (the same subset as the
web font). Output: the same characters and glyph outlines, with
1. only the layout features a face uses (ccmp, liga, kern, mark, vert, vrt2): the others
   (aalt, locl for other regions, proportional and half-width forms...) pull in thousands
   of alternate glyphs that text shaping parses again for every run of text;
2. TrueType (quadratic) outlines instead of CFF, converted with a maximum error of one font
   unit (1/1000 em): fonts parse much faster, and PDFs embed a TrueType subset.
Both changes are about rendering speed; the characters drawn do not change.
Needs fontTools (pip install fonttools).
"""
import sys

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

src, dst = sys.argv[1], sys.argv[2]

font = TTFont(src)
options = subset.Options()
options.layout_features = ["ccmp", "liga", "kern", "mark", "vert", "vrt2"]
options.name_IDs = ["*"]
options.name_languages = ["*"]
options.hinting = False
options.notdef_outline = True
subsetter = subset.Subsetter(options)
subsetter.populate(unicodes=font.getBestCmap().keys())
subsetter.subset(font)

order = font.getGlyphOrder()
glyphs = font.getGlyphSet()
vorg = font["VORG"] if "VORG" in font else None
glyf = newTable("glyf")
glyf.glyphOrder = order
glyf.glyphs = {}
for name in order:
    pen = TTGlyphPen(glyphs)
    glyphs[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
    glyph = pen.glyph()
    glyph.recalcBounds(glyf)
    glyf[name] = glyph
    # TrueType side bearings are measured from the control box of the outline.
    x_min, y_max = getattr(glyph, "xMin", 0), getattr(glyph, "yMax", 0)
    font["hmtx"][name] = (font["hmtx"][name][0], x_min)
    if "vmtx" in font:
        origin = vorg.VOriginRecords.get(name, vorg.defaultVertOriginY) if vorg else y_max
        font["vmtx"][name] = (font["vmtx"][name][0], origin - y_max)
font["glyf"] = glyf
font["loca"] = newTable("loca")
maxp = newTable("maxp")
maxp.tableVersion = 0x00010000
for attr in ("maxZones",):
    setattr(maxp, attr, 1)
for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
             "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
    setattr(maxp, attr, 0)
font["maxp"] = maxp
del font["CFF "]
if "VORG" in font:
    del font["VORG"]
font["post"].formatType = 3.0
font["head"].glyphDataFormat = 0
font.sfntVersion = "\x00\x01\x00\x00"
font.save(dst)
