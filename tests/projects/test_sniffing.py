"""Content sniffing of uploads, upload names, and previews."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.errors import UnsupportedType, ValidationFailed
from app.projects.preview import render_preview
from app.projects.sniffing import IMAGE_KINDS, Sniffed, clean_filename, sniff

from . import samples

ACCEPTED_ALL = "accepted: PDF, PowerPoint (.pptx), Word (.docx), PNG, JPEG, MP4."
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def stored(tmp_path):
    """Write bytes under a name, as an upload would be stored."""

    def write(data: bytes, name: str = "upload") -> object:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write


def _refusal(path, **options) -> UnsupportedType:
    """What `sniff` raises for the file (it must refuse it)."""
    with pytest.raises(UnsupportedType) as caught:
        sniff(path, **options)
    return caught.value


# --- Accepted kinds ----------------------------------------------------------------------------

GOOD = [
    (samples.pdf_bytes, Sniffed("pdf", "application/pdf", ".pdf")),
    (samples.pptx_bytes, Sniffed("pptx", PPTX_MIME, ".pptx")),
    (samples.docx_bytes, Sniffed("docx", DOCX_MIME, ".docx")),
    (samples.png_bytes, Sniffed("png", "image/png", ".png")),
    (samples.jpeg_bytes, Sniffed("jpeg", "image/jpeg", ".jpg")),
    (samples.mp4_bytes, Sniffed("mp4", "video/mp4", ".mp4")),
]


@pytest.mark.parametrize("name", ["material.exe", "no_extension", "notes.txt"])
@pytest.mark.parametrize(("make", "expected"), GOOD, ids=[sniffed.kind for _, sniffed in GOOD])
def test_sniff_accepts_each_kind_whatever_its_name(stored, make, expected, name):
    assert sniff(stored(make(), name)) == expected


@pytest.mark.parametrize("brand", [b"mp42", b"mp41", b"iso2", b"avc1", b"M4V ", b"dash"])
def test_sniff_accepts_mp4_brands(stored, brand):
    assert sniff(stored(samples.mp4_bytes(major_brand=brand, compatible=(brand,)))).kind == "mp4"


def test_sniff_accepts_unknown_major_brand_with_mp4_compatible_brand(stored):
    assert sniff(stored(samples.mp4_bytes(major_brand=b"XYZW", compatible=(b"isom",)))).kind == "mp4"


def test_sniff_accepts_multi_page_pdf(stored):
    assert sniff(stored(samples.pdf_bytes(pages=3))).kind == "pdf"


# --- Refused content ---------------------------------------------------------------------------

BAD = [
    (samples.elf_bytes, "unsupported_media_type"),
    (samples.pe_bytes, "unsupported_media_type"),
    (samples.html_bytes, "unsupported_media_type"),
    (samples.svg_with_script_bytes, "unsupported_media_type"),
    (samples.zip_bytes, "unsupported_media_type"),
    (samples.xlsx_bytes, "unsupported_media_type"),
    (samples.pdf_html_polyglot_bytes, "polyglot"),
    (samples.pptm_bytes, "macro_enabled"),
    (samples.zip_bomb_pptx_bytes, "archive_too_large"),
    (samples.many_entries_pptx_bytes, "archive_too_large"),
    (samples.dense_entry_pptx_bytes, "archive_too_large"),
    (samples.huge_png_bytes, "image_too_large"),
]


@pytest.mark.parametrize(("make", "code"), BAD, ids=[make.__name__ for make, _ in BAD])
def test_sniff_refuses_bad_content(stored, make, code):
    refused = _refusal(stored(make(), "innocent.pptx"))

    assert (refused.status, refused.code) == (415, code)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (samples.html_bytes, f"This file is an HTML document; {ACCEPTED_ALL}"),
        (samples.svg_with_script_bytes, f"This file is an SVG image; {ACCEPTED_ALL}"),
        (samples.pe_bytes, f"This file is a Windows program; {ACCEPTED_ALL}"),
        (samples.elf_bytes, f"This file is a Linux program (ELF); {ACCEPTED_ALL}"),
        (samples.zip_bytes, f"This file is a ZIP archive; {ACCEPTED_ALL}"),
        (samples.xlsx_bytes, f"This file is an Excel workbook (.xlsx); {ACCEPTED_ALL}"),
    ],
    ids=["html", "svg", "pe", "elf", "zip", "xlsx"],
)
def test_sniff_refusal_names_what_was_found_and_what_is_accepted(stored, make, message):
    refused = _refusal(stored(make(), "slides.pdf"))

    assert refused.message == message


@pytest.mark.parametrize("make", [samples.pe_bytes, samples.elf_bytes, samples.html_bytes], ids=["exe", "elf", "html"])
def test_sniff_refuses_renamed_files(stored, make):
    refused = _refusal(stored(make(), "pitch.pdf"))

    assert refused.code == "unsupported_media_type"


def test_sniff_refuses_empty_file_as_validation_error(stored):
    with pytest.raises(ValidationFailed) as caught:
        sniff(stored(b"", "empty.pdf"))

    assert (caught.value.status, caught.value.fields) == (422, {"file": ["The file is empty."]})


def test_sniff_refuses_plain_text(stored):
    refused = _refusal(stored("Hello, 世界\n".encode()))

    assert refused.message == f"This file is a text file; {ACCEPTED_ALL}"


def test_sniff_refuses_polyglot_with_markup_in_its_header(stored):
    pdf = samples.pdf_bytes()
    header_end = pdf.index(b"\n") + 1
    polyglot = pdf[:header_end] + b"%<iframe src=javascript:alert(1)>\n" + pdf[header_end:]

    refused = _refusal(stored(polyglot))

    assert refused.code == "polyglot"


def test_sniff_refuses_pdf_header_without_a_document(stored):
    refused = _refusal(stored(b"%PDF-1.7\nnot really a pdf\n"))

    assert refused.code == "damaged_file"


def test_sniff_refuses_pdf_not_starting_at_byte_zero(stored):
    refused = _refusal(stored(b"junk" + samples.pdf_bytes()))

    assert refused.status == 415


@pytest.mark.parametrize("make", [samples.png_bytes, samples.jpeg_bytes], ids=["png", "jpeg"])
def test_sniff_refuses_truncated_images(stored, make):
    data = make()

    refused = _refusal(stored(data[: len(data) // 2]))

    assert refused.code == "damaged_file"


def test_sniff_refuses_quicktime_movie(stored):
    refused = _refusal(stored(samples.mp4_bytes(major_brand=b"qt  ", compatible=(b"qt  ",))))

    assert refused.message == f"This file is a QuickTime movie (.mov); {ACCEPTED_ALL}"


def test_sniff_refuses_heic_photo(stored):
    refused = _refusal(stored(samples.mp4_bytes(major_brand=b"heic", compatible=(b"mif1", b"heic"))), allowed=IMAGE_KINDS)

    assert refused.message == "This file is a HEIC photo; accepted: PNG, JPEG."


def test_sniff_refuses_truncated_mp4(stored):
    data = samples.mp4_bytes()

    refused = _refusal(stored(data[:-4]))

    assert refused.code == "damaged_file"


def test_sniff_refuses_mp4_without_movie_header(stored):
    data = samples.mp4_bytes()
    ftyp_size = int.from_bytes(data[:4], "big")
    without_moov = data[:ftyp_size] + b"\x00\x00\x00\x10mdat" + bytes(8)

    refused = _refusal(stored(without_moov))

    assert refused.code == "damaged_file"


def test_sniff_refuses_docx_declaring_macro_content_type_without_vba_part(stored):
    data = samples._ooxml(
        "word/document.xml",
        "application/vnd.ms-word.document.macroEnabled.main+xml",
        "<w:document xmlns:w='http://schemas.openxmlformats.org/wordprocessingml/2006/main'/>",
    )

    refused = _refusal(stored(data))

    assert refused.code == "macro_enabled"


def test_sniff_refuses_pptx_whose_main_part_is_missing(stored):
    data = samples._ooxml("ppt/other.xml", samples.PPTX_MAIN, "<x/>")

    refused = _refusal(stored(data))

    assert refused.code == "unsupported_media_type"


def test_sniff_refuses_powerpoint_template(stored):
    data = samples._ooxml(
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml",
        "<p:presentation xmlns:p='http://schemas.openxmlformats.org/presentationml/2006/main'/>",
    )

    refused = _refusal(stored(data))

    assert refused.message == (
        f"This file is a PowerPoint template or slide show, not a .pptx presentation; {ACCEPTED_ALL}"
    )


# --- allowed= ----------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [samples.png_bytes, samples.jpeg_bytes], ids=["png", "jpeg"])
def test_sniff_accepts_images_when_only_images_are_allowed(stored, make):
    assert sniff(stored(make()), allowed=IMAGE_KINDS).kind in IMAGE_KINDS


def test_sniff_refuses_pdf_when_only_images_are_allowed(stored):
    refused = _refusal(stored(samples.pdf_bytes(), "photo.png"), allowed=IMAGE_KINDS)

    assert (refused.code, refused.message) == (
        "unsupported_media_type",
        "This file is a PDF document; accepted: PNG, JPEG.",
    )


def test_sniff_refuses_docx_when_only_pdf_is_allowed(stored):
    refused = _refusal(stored(samples.docx_bytes()), allowed={"pdf"})

    assert refused.message == "This file is a Word document (.docx); accepted: PDF."


def test_sniff_rejects_unknown_allowed_kinds(stored):
    with pytest.raises(ValueError):
        sniff(stored(samples.pdf_bytes()), allowed={"pdf", "gif"})


# --- clean_filename ----------------------------------------------------------------------------

NO_NAME = "The file has no name."
PATH = "The file name must be a plain name, without folders or a drive."
CONTROL = "The file name must not contain control characters."
TOO_LONG = "The file name is longer than 255 characters."
RESERVED = "The file name is reserved by Windows (like CON or NUL); rename the file."


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (None, NO_NAME),
        ("", NO_NAME),
        ("   ", NO_NAME),
        ("../../x.pdf", PATH),
        ("/etc/passwd", PATH),
        ("C:\\x.pdf", PATH),
        ("C:x.pdf", PATH),
        ("slides\\final.pptx", PATH),
        ("..", PATH),
        ("x\x00.pdf", CONTROL),
        ("line\nbreak.pdf", CONTROL),
        ("tab\there.pdf", CONTROL),
        ("del\x7f.pdf", CONTROL),
        ("invoice\u202efdp.exe", CONTROL),
        ("a" * 252 + ".pdf", TOO_LONG),
        ("CON.pdf", RESERVED),
        ("nul.txt", RESERVED),
        ("COM1.docx", RESERVED),
        ("lpt9", RESERVED),
        ("Aux.tar.gz", RESERVED),
        ("prn .pdf", RESERVED),
    ],
)
def test_clean_filename_refuses(name, message):
    with pytest.raises(ValidationFailed) as caught:
        clean_filename(name)

    assert (caught.value.status, caught.value.fields) == (422, {"file": [message]})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("项目介绍 2026.pdf", "项目介绍 2026.pdf"),
        ("  slides.pptx \n", "slides.pptx"),
        ("Cafe\u0301.pdf", "Caf\u00e9.pdf"),
        ("a" * 251 + ".pdf", "a" * 251 + ".pdf"),
        ("CONSOLE.pdf", "CONSOLE.pdf"),
        ("con-notes.pdf", "con-notes.pdf"),
        ("notes.con.pdf", "notes.con.pdf"),
        ("👩‍💻 demo.mp4", "👩‍💻 demo.mp4"),
    ],
)
def test_clean_filename_keeps_ordinary_names(name, expected):
    assert clean_filename(name) == expected


# --- Previews ----------------------------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_render_preview_of_pdf_first_page_at_asked_width(stored):
    width, height = _png_size(render_preview(stored(samples.pdf_bytes(pages=2)), "pdf", width=400))

    assert width == pytest.approx(400, abs=2)
    assert height == pytest.approx(400 * 297 / 210, abs=3)  # A4 portrait


@pytest.mark.parametrize(("make", "kind"), [(samples.png_bytes, "png"), (samples.jpeg_bytes, "jpeg")])
def test_render_preview_of_image_shrinks_to_asked_width(stored, make, kind):
    assert _png_size(render_preview(stored(make(width=640, height=480)), kind, width=200)) == (200, 150)


def test_render_preview_never_enlarges_a_small_image(stored):
    assert _png_size(render_preview(stored(samples.png_bytes(width=120, height=90)), "png")) == (120, 90)


@pytest.mark.parametrize(("make", "kind"), [(samples.mp4_bytes, "mp4"), (samples.pptx_bytes, "pptx")])
def test_render_preview_refuses_other_kinds(stored, make, kind):
    with pytest.raises(UnsupportedType) as caught:
        render_preview(stored(make()), kind)

    assert (caught.value.status, caught.value.code) == (415, "no_preview")
