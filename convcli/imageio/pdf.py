"""Vector PDF pages: filled and stroked rectangles and text in an embedded TrueType font, written object by object.

Enough of PDF 1.4 for figures made of square cells and monospaced text, so that a page stays sharp at any zoom
(a projector, a Beamer slide) and its text can be searched and copied. The font is embedded whole (a CID-keyed
TrueType font, glyphs addressed by their ids) with a ToUnicode map for the text's meaning.
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from collections.abc import Iterable, Sequence
from typing import BinaryIO

RGB = tuple[int, int, int]


class TrueTypeFont:
    """What a PDF needs of a TrueType font file: its bytes, metrics, and each character's glyph id and advance."""

    def __init__(self, path: str):
        """Read the font file at ``path``; ValueError if it is not a TrueType font this can use."""
        with open(path, "rb") as f:
            self.data = f.read()
        try:
            self._read(path)
        except (struct.error, KeyError, IndexError) as err:
            raise ValueError(f"{path} is not a usable TrueType font") from err

    def _read(self, path: str) -> None:
        stem = os.path.splitext(os.path.basename(path))[0]
        self.name = re.sub(r"[^A-Za-z0-9-]", "", stem) or "Font"  # a PDF name: no spaces, no punctuation
        tables = self._tables()
        head, hhea = tables["head"], tables["hhea"]
        self.units = self._u16(head + 18)
        self.bbox = tuple(self._i16(head + 36 + 2 * k) for k in range(4))
        self.ascent, self.descent = self._i16(hhea + 4), self._i16(hhea + 6)
        os2 = tables.get("OS/2")
        version = self._u16(os2) if os2 is not None else 0
        self.cap_height = self._i16(os2 + 88) if os2 is not None and version >= 2 else int(self.ascent * 0.7)
        metrics = self._u16(hhea + 34)
        hmtx = tables["hmtx"]
        self.advances = [self._u16(hmtx + 4 * k) for k in range(metrics)]
        if not self.advances or not self.units:
            raise ValueError("the font has no glyph metrics")
        self._cmap = self._char_map(tables["cmap"])
        self.used: dict[int, str] = {}  # glyph id -> the character it was asked for (the ToUnicode map)

    def _u16(self, at: int) -> int:
        return int(struct.unpack_from(">H", self.data, at)[0])

    def _i16(self, at: int) -> int:
        return int(struct.unpack_from(">h", self.data, at)[0])

    def _u32(self, at: int) -> int:
        return int(struct.unpack_from(">I", self.data, at)[0])

    def _tables(self) -> dict[str, int]:
        if self.data[:4] not in (b"\x00\x01\x00\x00", b"true"):
            raise ValueError("not a TrueType font file")
        count = self._u16(4)
        return {self.data[12 + 16 * k : 16 + 16 * k].decode("latin-1"): self._u32(20 + 16 * k) for k in range(count)}

    def _char_map(self, cmap: int) -> dict[int, int]:
        """Unicode code point -> glyph id, from the cmap's format 12 subtable (all of Unicode) or format 4 (the BMP)."""
        found: dict[int, int] = {}
        for k in range(self._u16(cmap + 2)):
            platform, encoding, offset = struct.unpack_from(">HHI", self.data, cmap + 4 + 8 * k)
            if (platform, encoding) in ((3, 10), (3, 1), (0, 3), (0, 4)):
                found[self._u16(cmap + offset)] = cmap + offset
        if 12 in found:
            at = found[12]
            chars = {}
            for g in range(self._u32(at + 12)):
                first, last, glyph = struct.unpack_from(">III", self.data, at + 16 + 12 * g)
                chars.update({c: glyph + c - first for c in range(first, min(last, 0x2FFFF) + 1)})
            return chars
        if 4 not in found:
            raise ValueError("the font has no Unicode character map")
        at = found[4]
        segments = self._u16(at + 6) // 2
        ends, starts = at + 14, at + 16 + 2 * segments
        deltas, ranges = starts + 2 * segments, starts + 4 * segments
        chars = {}
        for s in range(segments):
            first, last = self._u16(starts + 2 * s), self._u16(ends + 2 * s)
            delta, offset = self._u16(deltas + 2 * s), self._u16(ranges + 2 * s)
            for c in range(first, min(last, 0xFFFE) + 1):
                if offset == 0:
                    glyph = (c + delta) & 0xFFFF
                else:
                    glyph = self._u16(ranges + 2 * s + offset + 2 * (c - first))
                    glyph = (glyph + delta) & 0xFFFF if glyph else 0
                if glyph:
                    chars[c] = glyph
        return chars

    def advance(self, glyph: int) -> int:
        return self.advances[min(glyph, len(self.advances) - 1)]

    def glyphs(self, text: str) -> list[int]:
        """The glyph ids of text's characters (0, the font's blank box, for one it lacks); noted as used."""
        out = []
        for ch in text:
            glyph = self._cmap.get(ord(ch), 0)
            self.used.setdefault(glyph, ch)
            out.append(glyph)
        return out

    def width(self, text: str, size: float) -> float:
        return sum(self.advance(self._cmap.get(ord(ch), 0)) for ch in text) * size / self.units


def _colour(rgb: RGB, op: str) -> str:
    return " ".join(f"{v / 255:.3f}" for v in rgb) + f" {op}"


class Operators:
    """A page's drawing operators, in pixels with y down from the top left (as the SVG and PNG figures are drawn)."""

    def __init__(self, font: TrueTypeFont):
        self.font = font

    @staticmethod
    def start(height: float) -> str:
        """The page's first operators: 96 pixels to the inch as 72 points (the PNG's size in print), y flipped."""
        return f"0.75 0 0 -0.75 0 {height * 0.75:.2f} cm 1 w"

    @staticmethod
    def rect(x: float, y: float, w: float, h: float, fill: RGB, stroke: RGB | None = None) -> str:
        if stroke is None:
            return f"{_colour(fill, 'rg')} {x:g} {y:g} {w:g} {h:g} re f"
        return f"{_colour(fill, 'rg')} {_colour(stroke, 'RG')} {x + 0.5:g} {y + 0.5:g} {w:g} {h:g} re B"

    def text(
        self, x: float, y: float, line: str, fill: RGB, size: float = 13, anchor: str = "start", central: bool = False
    ) -> str:
        """``line`` with its baseline at y (``central``: its middle at y), starting, centred or ending at x."""
        if not line:
            return ""
        font = self.font
        if anchor != "start":
            x -= font.width(line, size) / (2 if anchor == "middle" else 1)
        if central:
            y += (font.ascent + font.descent) / 2 * size / font.units
        glyphs = "".join(f"{g:04X}" for g in font.glyphs(line))
        return f"BT {_colour(fill, 'rg')} /F1 {size:g} Tf 1 0 0 -1 {x:.2f} {y:.2f} Tm <{glyphs}> Tj ET"


class PdfFile:
    """A PDF written to an open binary file as its objects come: pages one by one, the font last."""

    def __init__(self, f: BinaryIO, font: TrueTypeFont):
        self.f, self.font = f, font
        self.offsets: dict[int, int] = {}
        self.pages: list[int] = []
        self.next_id = 5  # 1 catalog, 2 page tree, 3 the font, 4 its descendant
        f.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _object(self, number: int, body: bytes) -> None:
        self.offsets[number] = self.f.tell()
        self.f.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    def _new(self, body: bytes) -> int:
        number = self.next_id
        self.next_id += 1
        self._object(number, body)
        return number

    def _stream(self, data: bytes, extra: str = "") -> int:
        packed = zlib.compress(data, 6)
        head = f"<< /Length {len(packed)} /Filter /FlateDecode{extra} >>\nstream\n".encode("ascii")
        return self._new(head + packed + b"\nendstream")

    def add_page(self, width: float, height: float, operators: Iterable[str]) -> None:
        """A page of width x height pixels drawn by ``operators`` (empty ones skipped)."""
        content = self._stream("\n".join(op for op in operators if op).encode("ascii"))
        page = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width * 0.75:.2f} {height * 0.75:.2f}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content} 0 R >>"
        )
        self.pages.append(self._new(page.encode("ascii")))

    def close(self) -> None:
        """The font (with the glyphs the pages used), the page tree, the catalog and the cross-reference table."""
        font = self.font
        scale = 1000 / font.units
        file = self._stream(font.data, f" /Length1 {len(font.data)}")
        bbox = " ".join(str(round(v * scale)) for v in font.bbox)
        descriptor = self._new(
            f"<< /Type /FontDescriptor /FontName /{font.name} /Flags 33 /FontBBox [{bbox}] /ItalicAngle 0 "
            f"/Ascent {round(font.ascent * scale)} /Descent {round(font.descent * scale)} "
            f"/CapHeight {round(font.cap_height * scale)} /StemV 80 /FontFile2 {file} 0 R >>".encode("ascii")
        )
        used = sorted(font.used)
        widths = " ".join(f"{g} [{round(font.advance(g) * scale)}]" for g in used)
        to_unicode = self._stream(_to_unicode((g, font.used[g]) for g in used))
        self._object(
            4,
            f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{font.name} "
            f"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
            f"/FontDescriptor {descriptor} 0 R /CIDToGIDMap /Identity /W [{widths}] >>".encode("ascii"),
        )
        self._object(
            3,
            f"<< /Type /Font /Subtype /Type0 /BaseFont /{font.name} /Encoding /Identity-H "
            f"/DescendantFonts [4 0 R] /ToUnicode {to_unicode} 0 R >>".encode("ascii"),
        )
        kids = " ".join(f"{p} 0 R" for p in self.pages)
        self._object(2, f"<< /Type /Pages /Kids [{kids}] /Count {len(self.pages)} >>".encode("ascii"))
        self._object(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        xref = self.f.tell()
        count = self.next_id
        rows = [b"0000000000 65535 f \n"] + [b"%010d 00000 n \n" % self.offsets[k] for k in range(1, count)]
        self.f.write(b"xref\n0 %d\n" % count + b"".join(rows))
        self.f.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, xref))


def _to_unicode(pairs: Iterable[tuple[int, str]]) -> bytes:
    """A CMap from glyph ids to the characters they show, so a reader can search and copy the text."""
    entries = [f"<{g:04X}> <{ch.encode('utf-16-be').hex().upper()}>" for g, ch in pairs]
    chunks: Sequence[list[str]] = [entries[k : k + 100] for k in range(0, len(entries), 100)]
    body = "".join(f"{len(c)} beginbfchar\n" + "\n".join(c) + "\nendbfchar\n" for c in chunks)
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{body}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")
