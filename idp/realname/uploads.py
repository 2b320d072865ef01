"""Sanitising the ID-card photos people upload for manual review.

SECURITY.md "Uploads": at most 5 MB and a bounded pixel count, JPEG or PNG by content, re-encoded,
metadata stripped; SVG, HTML, polyglots and decompression bombs refused. The steps, in order:

1. size: not empty, at most :data:`MAX_BYTES`;
2. signature: the file starts with the JPEG or PNG magic bytes (the name and the declared content
   type are never trusted);
3. structure: the JPEG segments / PNG chunks are walked to the image's end marker; data after it
   (a zip, HTML or script appended to make a polyglot) is refused, and so is markup hidden in
   comment, metadata or text chunks. Complete JPEGs appended to a JPEG, as phone cameras write
   them (multi-picture files, HDR gain maps), are walked the same way and allowed;
4. decoding: Pillow must identify the same format, report at most :data:`MAX_PIXELS` pixels before
   decoding (a "bomb" header claiming huge dimensions is refused without allocating anything),
   verify, and fully decode the image;
5. re-encoding: the EXIF orientation is applied, the image is flattened to RGB (or greyscale),
   scaled to fit :data:`MAX_OUTPUT_SIDE`, and saved as a new JPEG with no metadata at all (no EXIF,
   GPS, ICC, XMP or comments).

Only the re-encoded bytes are ever stored or served.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageOps, UnidentifiedImageError

from idp.errors import InvalidInput

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
#: Longest side of the stored image; enough to read an ID card, and bounds storage.
MAX_OUTPUT_SIDE = 4096
JPEG_QUALITY = 90
#: Further complete JPEGs allowed after the first one (see :func:`_check_structure`).
MAX_APPENDED_JPEGS = 4

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Markup that makes a file renderable as a web page or script when sniffed. XML itself is not
# matched: XMP metadata is legitimately XML. Tags need a following delimiter so that short random
# byte runs in embedded thumbnails do not trigger it.
_MARKUP = re.compile(
    rb"<(?:html|script|svg|body|iframe|object|embed|img|meta|link|style|form|input)[\s>/]"
    rb"|<!doctype|<\?php|javascript:",
    re.IGNORECASE,
)
# Chunks whose bytes are image data rather than metadata.
_PNG_IMAGE_CHUNKS = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS"}


class UploadProblem(StrEnum):
    EMPTY = "empty"
    TOO_BIG = "too_big"
    NOT_JPEG_OR_PNG = "not_jpeg_or_png"
    EMBEDDED_CONTENT = "embedded_content"
    TOO_MANY_PIXELS = "too_many_pixels"
    DAMAGED = "damaged"


_MESSAGES = {
    UploadProblem.EMPTY: "请选择要上传的图片。 Please choose an image to upload.",
    UploadProblem.TOO_BIG: "图片不能超过 5 MB。 The image must not be larger than 5 MB.",
    UploadProblem.NOT_JPEG_OR_PNG: (
        "只能上传 JPEG 或 PNG 格式的图片。 Only JPEG or PNG images can be uploaded."
    ),
    UploadProblem.EMBEDDED_CONTENT: (
        "图片中含有不允许的附加内容,请上传普通照片或截图。"
        " The image carries extra content that is not allowed; please upload a plain photo or screenshot."
    ),
    UploadProblem.TOO_MANY_PIXELS: (
        "图片尺寸过大(最多 4000 万像素)。 The image has too many pixels (at most 40 megapixels)."
    ),
    UploadProblem.DAMAGED: "图片已损坏或无法读取。 The image is damaged or cannot be read.",
}


class UploadRejected(InvalidInput):
    def __init__(self, problem: UploadProblem, detail: str | None = None) -> None:
        super().__init__(
            _MESSAGES[problem], f"upload rejected: {problem.value}" + (f" ({detail})" if detail else "")
        )
        self.problem = problem


@dataclass(frozen=True)
class SanitizedImage:
    """A re-encoded image, safe to store and to serve as ``content_type``."""

    data: bytes
    width: int
    height: int
    #: ``JPEG`` or ``PNG``: what was uploaded.
    source_format: str
    content_type: str = "image/jpeg"
    extension: str = "jpg"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _damaged(detail: str) -> UploadRejected:
    return UploadRejected(UploadProblem.DAMAGED, detail)


def _jpeg_layout(data: bytes, start: int) -> tuple[list[bytes], int]:
    """Metadata segments (APPn, COM) of the JPEG at ``start`` and the offset just past its EOI marker."""
    metadata: list[bytes] = []
    n, i = len(data), start + 2
    while i < n:
        if data[i] != 0xFF:
            raise _damaged("JPEG marker expected")
        while i < n and data[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            break
        marker = data[i]
        i += 1
        if marker == 0xD9:  # EOI
            return metadata, i
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # RSTn and TEM carry no length
            continue
        if i + 2 > n:
            break
        length = int.from_bytes(data[i : i + 2], "big")
        if length < 2 or i + length > n:
            raise _damaged("JPEG segment length out of range")
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            metadata.append(data[i + 2 : i + length])
        i += length
        if marker == 0xDA:  # SOS: entropy-coded data runs to the next real marker
            while True:
                j = data.find(b"\xff", i)
                if j < 0 or j + 1 >= n:
                    raise _damaged("JPEG ends inside the image data")
                following = data[j + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:  # stuffed byte, restart marker
                    i = j + 2
                    continue
                i = j
                break
    raise _damaged("JPEG has no end marker")


def _png_layout(data: bytes) -> tuple[list[bytes], int]:
    """Ancillary chunk contents and the offset just past the IEND chunk."""
    metadata: list[bytes] = []
    n, i = len(data), len(PNG_MAGIC)
    while i + 12 <= n:
        length = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if end > n:
            raise _damaged("PNG chunk runs past the end of the file")
        if kind not in _PNG_IMAGE_CHUNKS:
            metadata.append(data[i + 8 : i + 8 + length])
        i = end
        if kind == b"IEND":
            return metadata, i
    raise _damaged("PNG has no IEND chunk")


def _check_structure(data: bytes, fmt: str) -> None:
    if fmt == "PNG":
        metadata, end = _png_layout(data)
    else:
        metadata, end = _jpeg_layout(data, 0)
        # Phone cameras append further complete JPEGs to the first (multi-picture files, HDR gain
        # maps, depth maps); those are walked like the first and dropped by re-encoding.
        for _ in range(MAX_APPENDED_JPEGS):
            if not data.startswith(JPEG_MAGIC, end):
                break
            more, end = _jpeg_layout(data, end)
            metadata += more
    trailing = data[end:]
    if trailing.strip(b"\x00\xff"):
        # A second file after the image's end marker is how image/zip and image/HTML polyglots are made.
        raise UploadRejected(
            UploadProblem.EMBEDDED_CONTENT, f"{len(trailing)} bytes after the end of the {fmt}"
        )
    for block in metadata:
        if _MARKUP.search(block):
            raise UploadRejected(UploadProblem.EMBEDDED_CONTENT, f"markup in {fmt} metadata")


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode.startswith("I") or image.mode == "F":
        # 16-bit and float greyscale: scale to 8 bits.
        return image.convert("I").point(lambda v: v / 256).convert("L")
    return image.convert("RGB")


def _decode(data: bytes, fmt: str) -> Image.Image:
    with Image.open(io.BytesIO(data), formats=("JPEG", "PNG")) as probe:
        # Pillow names a JPEG with appended images (multi-picture format) "MPO"; its first image is a JPEG.
        if (probe.format if probe.format != "MPO" else "JPEG") != fmt:
            raise UploadRejected(UploadProblem.NOT_JPEG_OR_PNG, f"decoder says {probe.format}")
        width, height = probe.size
        if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
            raise UploadRejected(UploadProblem.TOO_MANY_PIXELS, f"{width}x{height}")
        probe.verify()
    with Image.open(io.BytesIO(data), formats=("JPEG", "PNG")) as image:
        image.load()
        upright = ImageOps.exif_transpose(image)
        clean = _flatten(upright)
        if clean is image:
            clean = image.copy()
    clean.thumbnail((MAX_OUTPUT_SIDE, MAX_OUTPUT_SIDE), Image.Resampling.LANCZOS)
    # Nothing of the original's metadata may reach the new file.
    clean.info = {}
    return clean


def sanitize_id_photo(data: bytes) -> SanitizedImage:
    """Check an uploaded photo and return it re-encoded as a metadata-free JPEG.

    Raises :class:`UploadRejected` (with a Chinese and English public message) for anything that
    is not a sound JPEG or PNG within the limits.
    """
    if not isinstance(data, bytes | bytearray | memoryview) or len(data) == 0:
        raise UploadRejected(UploadProblem.EMPTY)
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise UploadRejected(UploadProblem.TOO_BIG, f"{len(data)} bytes")
    if data.startswith(JPEG_MAGIC):
        fmt = "JPEG"
    elif data.startswith(PNG_MAGIC):
        fmt = "PNG"
    else:
        raise UploadRejected(UploadProblem.NOT_JPEG_OR_PNG, "no JPEG or PNG signature")
    _check_structure(data, fmt)
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice that; a warning is a refusal here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            clean = _decode(data, fmt)
            out = io.BytesIO()
            clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, exif=b"")
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadRejected(UploadProblem.TOO_MANY_PIXELS, str(exc)[:200]) from None
    except UnidentifiedImageError:
        raise _damaged("Pillow cannot identify the image") from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure on untrusted bytes is a refusal, not a 500
        raise _damaged(f"{exc.__class__.__name__}: {str(exc)[:200]}") from None
    return SanitizedImage(data=out.getvalue(), width=clean.width, height=clean.height, source_format=fmt)
