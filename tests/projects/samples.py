"""Sample files as bytes, good and hostile, for tests of uploads, sniffing and previews.

Every function builds its file in memory; write the bytes under any name a test likes
(the name must not matter to `sniff`).
"""

from __future__ import annotations

import functools
import io
from datetime import datetime, timezone
import struct
import zipfile
import zlib

from fpdf import FPDF
from PIL import Image

PPTX_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
PPTM_MAIN = "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml"
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"

_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


def pdf_bytes(text: str = "CloudFair", pages: int = 1) -> bytes:
    """An A4 PDF with `text` on each page."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=timezone.utc))  # same text, same bytes
    pdf.set_font("helvetica", size=24)
    for _ in range(pages):
        pdf.add_page()
        pdf.cell(text=text)
    return bytes(pdf.output())


def png_bytes(width: int = 320, height: int = 240, color: str = "teal") -> bytes:
    return _image_bytes("PNG", width, height, color)


def jpeg_bytes(width: int = 320, height: int = 240, color: str = "orange") -> bytes:
    return _image_bytes("JPEG", width, height, color)


def _image_bytes(fmt: str, width: int, height: int, color: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, fmt)
    return buffer.getvalue()


def _ooxml(main_part: str, main_type: str, main_xml: str, extra: dict[str, bytes] | None = None,
           extra_types: dict[str, str] | None = None) -> bytes:
    """A minimal Office Open XML package: content types, package rels and the main part."""
    overrides = {f"/{main_part}": main_type, **(extra_types or {})}
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{name}" ContentType="{ctype}"/>' for name, ctype in overrides.items())
        + "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Relationships xmlns="{_RELS_NS}">'
        f'<Relationship Id="rId1" Type="{_OFFICE_DOCUMENT}" Target="{main_part}"/>'
        "</Relationships>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", content_types)
        zf.writestr("_rels/.rels", rels)
        zf.writestr(main_part, main_xml)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


_PRESENTATION_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
    '<p:sldSz cx="12192000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/>'
    "</p:presentation>"
)


def pptx_bytes() -> bytes:
    return _ooxml("ppt/presentation.xml", PPTX_MAIN, _PRESENTATION_XML)


def docx_bytes(text: str = "CloudFair") -> bytes:
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
    )
    return _ooxml("word/document.xml", DOCX_MAIN, document)


def xlsx_bytes() -> bytes:
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>'
    )
    return _ooxml("xl/workbook.xml", XLSX_MAIN, workbook)


def pptm_bytes() -> bytes:
    """A macro-enabled presentation (what a .pptm holds), to be uploaded renamed as .pptx."""
    return _ooxml(
        "ppt/presentation.xml",
        PPTM_MAIN,
        _PRESENTATION_XML,
        extra={"ppt/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)},
        extra_types={"/ppt/vbaProject.bin": "application/vnd.ms-office.vbaProject"},
    )


@functools.cache
def zip_bomb_pptx_bytes(megabytes: int = 200) -> bytes:
    """A pptx-shaped package with one entry of `megabytes` MB of zeros; a few hundred KB on disk."""
    buffer = io.BytesIO(pptx_bytes())
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("ppt/media/zeros.bin", "w") as entry:
            for _ in range(megabytes):
                entry.write(chunk)
    return buffer.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_bytes(major_brand: bytes = b"isom", compatible: tuple[bytes, ...] = (b"isom", b"iso2", b"mp41")) -> bytes:
    """An ftyp box, a moov box holding an empty movie header, and a small mdat."""
    ftyp = _box(b"ftyp", major_brand + struct.pack(">I", 0x200) + b"".join(compatible))
    mvhd = _box(
        b"mvhd",
        struct.pack(">BxxxIIII", 0, 0, 0, 1000, 0)  # version/flags, created, modified, timescale, duration
        + struct.pack(">IH", 0x00010000, 0x0100)  # rate 1.0, volume 1.0
        + bytes(10)
        + struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)  # identity matrix
        + bytes(24)
        + struct.pack(">I", 1),  # next track id
    )
    return ftyp + _box(b"moov", mvhd) + _box(b"mdat", bytes(16))


def elf_bytes() -> bytes:
    """The start of a 64-bit Linux executable."""
    header = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HHI", 2, 0x3E, 1)
    return header + bytes(64 - len(header)) + b"\x90" * 64


def pe_bytes() -> bytes:
    """The start of a Windows executable: an MZ header pointing to a PE header."""
    dos = bytearray(b"MZ" + bytes(62))
    dos[0x3C:0x40] = struct.pack("<I", 0x40)
    return bytes(dos) + b"PE\x00\x00" + struct.pack("<HH", 0x8664, 1) + bytes(200)


def html_bytes() -> bytes:
    return b"<!DOCTYPE html>\n<html><head><title>Pitch</title></head><body><script>alert(1)</script></body></html>\n"


def svg_with_script_bytes() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>\n'
    )


def pdf_html_polyglot_bytes() -> bytes:
    """A valid PDF that a browser sniffing for HTML would also run: markup after %%EOF."""
    return pdf_bytes() + b"\n<html><body><script>alert(1)</script></body></html>\n"


def zip_bytes() -> bytes:
    """A plain zip archive (not an Office document)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("readme.txt", "hello")
    return buffer.getvalue()


def huge_png_bytes(width: int = 8000, height: int = 7500) -> bytes:
    """A PNG whose header claims `width` × `height` pixels (60 megapixels by default) but holds one row."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(width + 1)))
        + chunk(b"IEND", b"")
    )


def many_entries_pptx_bytes(entries: int = 2001) -> bytes:
    """A pptx-shaped package with more entries than any real presentation needs."""
    buffer = io.BytesIO(pptx_bytes())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_STORED) as zf:
        for n in range(entries):
            zf.writestr(f"ppt/media/empty{n}.bin", b"")
    return buffer.getvalue()


def dense_entry_pptx_bytes(megabytes: int = 5) -> bytes:
    """A pptx-shaped package whose one extra entry compresses far more than 100 to 1 (but totals < 10 MB)."""
    return zip_bomb_pptx_bytes(megabytes)
