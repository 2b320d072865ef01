"""Sanitising uploaded ID photos: only sound JPEG/PNG within limits, re-encoded without metadata."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from PIL import Image, ImageCms

from idp.errors import InvalidInput
from idp.realname.uploads import (
    MAX_BYTES,
    MAX_OUTPUT_SIDE,
    UploadProblem,
    UploadRejected,
    sanitize_id_photo,
)


def jpeg(size: tuple[int, int] = (64, 48), **options: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG", **options)
    return out.getvalue()


def png(mode: str = "RGB", size: tuple[int, int] = (40, 30), **options: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG", **options)
    return out.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels, with a tiny image-data chunk."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def refused(data: bytes) -> UploadProblem:
    with pytest.raises(UploadRejected) as info:
        sanitize_id_photo(data)
    assert isinstance(info.value, InvalidInput)
    return info.value.problem


def test_small_jpeg_is_reencoded() -> None:
    result = sanitize_id_photo(jpeg())
    assert (result.width, result.height) == (64, 48)
    assert (
        result.content_type == "image/jpeg" and result.extension == "jpg" and result.source_format == "JPEG"
    )
    with Image.open(io.BytesIO(result.data)) as image:
        assert image.format == "JPEG" and image.size == (64, 48)
    assert len(result.sha256) == 64


def test_small_png_is_reencoded_as_jpeg() -> None:
    result = sanitize_id_photo(png())
    assert result.source_format == "PNG" and result.data.startswith(b"\xff\xd8\xff")


def test_transparent_png_is_flattened_onto_white() -> None:
    result = sanitize_id_photo(png("RGBA"))
    with Image.open(io.BytesIO(result.data)) as image:
        assert image.mode == "RGB"
        red, green, blue = image.getpixel((5, 5))  # type: ignore[misc]
        assert min(red, green, blue) > 240


@pytest.mark.parametrize("mode", ["L", "P", "LA", "I;16", "1"])
def test_other_png_modes_are_converted(mode: str) -> None:
    with Image.open(io.BytesIO(sanitize_id_photo(png(mode)).data)) as image:
        assert image.mode in ("RGB", "L")


def test_cmyk_and_progressive_jpegs_are_accepted() -> None:
    out = io.BytesIO()
    Image.new("CMYK", (20, 20)).save(out, "JPEG")
    assert sanitize_id_photo(out.getvalue()).width == 20
    assert sanitize_id_photo(jpeg(progressive=True)).width == 64


def test_exif_orientation_is_applied_and_all_metadata_stripped() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {2: (39.0, 54.0, 0.0)}  # GPS latitude
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = jpeg(exif=exif.tobytes(), icc_profile=icc, comment=b"secret comment")
    assert b"CameraMaker" in original and b"secret comment" in original
    result = sanitize_id_photo(original)
    assert (result.width, result.height) == (48, 64)
    for marker in (b"Exif", b"CameraMaker", b"secret comment", b"ICC_PROFILE", b"http://ns.adobe.com"):
        assert marker not in result.data
    with Image.open(io.BytesIO(result.data)) as image:
        assert not image.getexif()
        assert "icc_profile" not in image.info and "comment" not in image.info and "exif" not in image.info


def test_png_text_chunks_are_not_carried_over() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Zhang San 13800138000")
    result = sanitize_id_photo(png(pnginfo=info))
    assert b"Zhang San" not in result.data


def test_large_images_are_scaled_to_the_output_bound() -> None:
    result = sanitize_id_photo(jpeg((MAX_OUTPUT_SIDE + 1000, 50), quality=30))
    assert result.width == MAX_OUTPUT_SIDE and result.height < 50


def test_text_file_is_refused() -> None:
    assert refused("姓名: 张三\n身份证号: 见附件\n".encode()) is UploadProblem.NOT_JPEG_OR_PNG


def test_svg_is_refused() -> None:
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'
    assert refused(svg) is UploadProblem.NOT_JPEG_OR_PNG


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00"
        b"\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
        b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
        b"PK\x03\x04" + b"\0" * 100,
        b"BM" + b"\0" * 100,
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    ],
    ids=["html", "gif", "pdf", "zip", "bmp", "webp"],
)
def test_other_formats_are_refused(data: bytes) -> None:
    assert refused(data) is UploadProblem.NOT_JPEG_OR_PNG


def test_gif_made_by_pillow_is_refused() -> None:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    assert refused(out.getvalue()) is UploadProblem.NOT_JPEG_OR_PNG


def test_six_megabyte_file_is_refused_before_decoding() -> None:
    data = jpeg() + b"\0" * (6 * 1024 * 1024)
    assert len(data) > MAX_BYTES
    assert refused(data) is UploadProblem.TOO_BIG


def test_empty_upload_is_refused() -> None:
    assert refused(b"") is UploadProblem.EMPTY


def test_decompression_bomb_header_is_refused() -> None:
    # Beyond Pillow's own hard limit (it raises while opening).
    assert refused(png_header_only(100_000, 100_000)) is UploadProblem.TOO_MANY_PIXELS
    # Beyond ours but under Pillow's: refused from the header, before anything is decoded.
    assert refused(png_header_only(8000, 6000)) is UploadProblem.TOO_MANY_PIXELS


def test_highly_compressed_png_over_the_pixel_limit_is_refused() -> None:
    # 9000 x 5000 all-black pixels compress to a small file; decoding it would need 135 MB.
    raw = zlib.compress(b"".join(b"\0" + b"\0" * 9000 for _ in range(5000)), 9)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 9000, 5000, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", raw)
        + chunk(b"IEND", b"")
    )
    assert len(bomb) < MAX_BYTES
    assert refused(bomb) is UploadProblem.TOO_MANY_PIXELS


def test_jpeg_with_appended_html_is_refused() -> None:
    polyglot = jpeg() + b"<html><body><script>alert(document.cookie)</script></body></html>"
    assert refused(polyglot) is UploadProblem.EMBEDDED_CONTENT


def test_jpeg_with_appended_zip_is_refused() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("payload.txt", "x" * 1000)
    assert refused(jpeg() + archive.getvalue()) is UploadProblem.EMBEDDED_CONTENT


def test_multi_picture_jpeg_from_a_phone_is_accepted() -> None:
    out = io.BytesIO()
    first, second = Image.new("RGB", (64, 48), "red"), Image.new("RGB", (32, 24), "blue")
    first.save(out, "MPO", save_all=True, append_images=[second])
    result = sanitize_id_photo(out.getvalue())
    assert (result.width, result.height) == (64, 48) and result.source_format == "JPEG"
    assert result.data.count(b"\xff\xd8") == 1


def test_jpeg_with_appended_jpeg_is_accepted_but_not_kept() -> None:
    result = sanitize_id_photo(jpeg() + jpeg((16, 16)))
    assert (result.width, result.height) == (64, 48) and result.data.count(b"\xff\xd8") == 1


def test_appended_jpeg_followed_by_html_is_refused() -> None:
    assert (
        refused(jpeg() + jpeg((16, 16)) + b"<html><script>x</script></html>")
        is UploadProblem.EMBEDDED_CONTENT
    )


def test_markup_in_an_appended_jpeg_is_refused() -> None:
    assert refused(jpeg() + jpeg((16, 16), comment=b"<script>x</script>")) is UploadProblem.EMBEDDED_CONTENT


def test_png_with_appended_data_is_refused() -> None:
    assert refused(png() + b"<?php system($_GET['c']); ?>") is UploadProblem.EMBEDDED_CONTENT


def test_markup_in_jpeg_comment_is_refused() -> None:
    assert refused(jpeg(comment=b"<script>alert(1)</script>")) is UploadProblem.EMBEDDED_CONTENT


def test_markup_in_png_text_chunk_is_refused() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<svg onload=alert(1)>")
    assert refused(png(pnginfo=info)) is UploadProblem.EMBEDDED_CONTENT


def test_trailing_padding_is_tolerated() -> None:
    assert sanitize_id_photo(jpeg() + b"\0" * 16).width == 64


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff",
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\0" * 50,
        b"\x89PNG\r\n\x1a\n",
        b"\x89PNG\r\n\x1a\n" + b"\0" * 30,
    ],
    ids=["jpeg-magic-only", "jpeg-header-only", "png-magic-only", "png-garbage"],
)
def test_truncated_or_garbage_images_are_refused(data: bytes) -> None:
    assert refused(data) is UploadProblem.DAMAGED


def test_jpeg_cut_in_the_middle_is_refused() -> None:
    data = jpeg((300, 300))
    assert refused(data[: len(data) // 2]) is UploadProblem.DAMAGED


def test_png_with_corrupted_image_data_is_refused() -> None:
    data = bytearray(png(size=(64, 64)))
    start = data.index(b"IDAT") + 8
    data[start : start + 8] = b"\xde\xad\xbe\xef" * 2
    assert refused(bytes(data)) is UploadProblem.DAMAGED


def test_jpeg_magic_with_png_content_is_refused() -> None:
    assert refused(b"\xff\xd8\xff" + png()) is UploadProblem.DAMAGED


def test_messages_are_bilingual() -> None:
    for problem in UploadProblem:
        message = UploadRejected(problem).public
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message) and "image" in message.lower()
