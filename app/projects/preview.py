"""PNG previews of material: the first page of a PDF, or a thumbnail of an image."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pypdfium2 as pdfium
from flask_babel import gettext
from PIL import Image, ImageOps

from app.errors import UnsupportedType

from .sniffing import LABELS, MAX_IMAGE_PIXELS, PDFIUM_LOCK

MAX_PREVIEW_WIDTH = 4000
#: A very tall page (a long receipt, a scroll) is rendered at most this many widths high.
MAX_ASPECT = 4


def render_preview(path: Path, kind: str, width: int = 800) -> bytes:
    """Return PNG bytes previewing a sniffed file about `width` pixels wide.

    PDFs are rendered at that width; images are shrunk to it (never enlarged).
    Raises UnsupportedType with code "no_preview" for other kinds, "damaged_file" when it cannot be read.
    """
    if not 1 <= width <= MAX_PREVIEW_WIDTH:
        raise ValueError(f"width must be between 1 and {MAX_PREVIEW_WIDTH}")
    if kind == "pdf":
        image = _render_pdf(Path(path), width)
    elif kind in {"png", "jpeg"}:
        image = _thumbnail(Path(path), kind, width)
    else:
        raise UnsupportedType(gettext("No preview for %(kind)s files.", kind=LABELS.get(kind, kind)), code="no_preview")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _render_pdf(path: Path, width: int) -> Image.Image:
    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError:
            raise UnsupportedType(gettext("This PDF cannot be opened for a preview."), code="damaged_file") from None
        try:
            if len(document) < 1:
                raise UnsupportedType(gettext("This PDF has no pages."), code="damaged_file")
            page = document[0]
            try:
                page_width, page_height = page.get_size()  # in points, after the page's rotation
                scale = width / max(page_width, 1)
                scale = min(scale, MAX_ASPECT * width / max(page_height, 1))
                bitmap = page.render(scale=scale)
                try:
                    return bitmap.to_pil().convert("RGB")  # copies the pixels out of PDFium's buffer
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            document.close()


def _thumbnail(path: Path, kind: str, width: int) -> Image.Image:
    try:
        with Image.open(path, formats=["PNG" if kind == "png" else "JPEG"]) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise UnsupportedType(gettext("This image is too large for a preview."), code="image_too_large")
            image.draft("RGB", (width, width * MAX_ASPECT))  # JPEG decodes straight at a smaller scale
            image = ImageOps.exif_transpose(image)  # phones store portraits sideways with an Orientation tag
            image.thumbnail((width, width * MAX_ASPECT))
            if image.mode not in {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"}:
                image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            return image
    except Image.DecompressionBombError:
        raise UnsupportedType(gettext("This image is too large for a preview."), code="image_too_large") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error):
        raise UnsupportedType(gettext("This image cannot be read for a preview."), code="damaged_file") from None
