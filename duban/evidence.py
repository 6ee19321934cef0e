"""Evidence files (证明材料): what is accepted, judged from the content and never from the name,
and the previews. Pure apart from reading the bytes it is given; storing is the services'.

Accepted: PDF, PNG, JPEG, DOCX and XLSX up to ``EVIDENCE_MAX_BYTES``. DOCX and XLSX are zip
archives: they must hold the parts that make them what they claim, and their inflated size and
compression ratio are bounded so that a small "document" cannot unpack into gigabytes (a zip
bomb) when a reader or a preview opens it.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from dataclasses import dataclass

import filetype

from core.text import bilingual

MIME_TO_KIND = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}
KIND_TO_MIME = {kind: mime for mime, kind in MIME_TO_KIND.items()}
# The parts an Office Open XML file of each kind must contain.
REQUIRED_PARTS = {
    "docx": ("[Content_Types].xml", "word/document.xml"),
    "xlsx": ("[Content_Types].xml", "xl/workbook.xml"),
}
ZIP_MAX_MEMBERS = 2000
ZIP_MAX_INFLATED = 200 * 1024 * 1024
"""Total unpacked size of a DOCX/XLSX: ten times the default upload limit."""
ZIP_MAX_RATIO = 100
"""Largest compression ratio of a member (XML compresses ~10:1; a bomb ~1000:1)."""
NAME_MAX = 200


class EvidenceError(ValueError):
    """A refused file, with the bilingual message shown to the user."""


@dataclass(frozen=True, slots=True)
class Checked:
    name: str
    kind: str
    content_type: str
    size: int


def check_name(name: str) -> str:
    """The uploaded name, refused if it has path separators or control characters (it is only
    ever shown and used as the download name, but such a name is a sign of a crafted upload)."""
    name = name or ""
    if not name.strip():
        raise EvidenceError(bilingual("文件名不能为空", "the file needs a name"))
    if "/" in name or "\\" in name:
        raise EvidenceError(
            bilingual(f"文件名“{name}”含路径分隔符", "the file name contains a path separator")
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        raise EvidenceError(
            bilingual("文件名含控制字符", "the file name contains control characters")
        )
    if name in (".", "..") or len(name) > NAME_MAX:
        raise EvidenceError(
            bilingual(f"文件名无效或超过 {NAME_MAX} 个字符", "the file name is invalid or too long")
        )
    return name


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.0f} MB"
    return f"{size / 1024:.0f} KB"


def check_file(*, name: str, data: bytes, max_bytes: int) -> Checked:
    """Accept or refuse one file. The kind comes from the content: an executable renamed
    ``.pdf`` is refused, a PDF named ``.txt`` is a PDF."""
    name = check_name(name)
    if len(data) > max_bytes:
        raise EvidenceError(
            bilingual(
                f"“{name}”超过大小上限 {human_size(max_bytes)}",
                f"{name} is larger than the limit of {human_size(max_bytes)}",
            )
        )
    if not data:
        raise EvidenceError(bilingual(f"“{name}”是空文件", f"{name} is empty"))
    guess = filetype.guess(data[:8192])
    mime = guess.mime if guess else ""
    if mime in ("application/zip",):
        mime = _office_mime(data) or mime
    kind = MIME_TO_KIND.get(mime)
    if kind is None:
        raise EvidenceError(
            bilingual(
                f"“{name}”不是可接受的文件类型（识别为 {mime or '未知'}）；只接受 PDF、PNG、JPEG、DOCX、XLSX",
                f"{name} is not an accepted type (detected {mime or 'unknown'}); "
                "PDF, PNG, JPEG, DOCX and XLSX only",
            )
        )
    if kind in REQUIRED_PARTS:
        _check_zip(name, data, kind)
    return Checked(name=name, kind=kind, content_type=KIND_TO_MIME[kind], size=len(data))


def _office_mime(data: bytes) -> str | None:
    """filetype reads only the first bytes; a DOCX whose first member is not word/… reads as a
    plain zip. Look at the member names."""
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError):
        return None
    if "word/document.xml" in names:
        return KIND_TO_MIME["docx"]
    if "xl/workbook.xml" in names:
        return KIND_TO_MIME["xlsx"]
    return None


def _check_zip(name: str, data: bytes, kind: str) -> None:
    bad = EvidenceError(
        bilingual(
            f"“{name}”不是有效的 {kind.upper()} 文件", f"{name} is not a valid {kind.upper()} file"
        )
    )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise bad from None
    names = {m.filename for m in members}
    if not all(part in names for part in REQUIRED_PARTS[kind]):
        raise bad
    bomb = EvidenceError(
        bilingual(
            f"“{name}”解压后过大，疑为压缩炸弹", f"{name} unpacks far too large (a zip bomb?)"
        )
    )
    if len(members) > ZIP_MAX_MEMBERS:
        raise bomb
    # The sizes in the directory are the archive's own claims: they are checked here, and a
    # member that inflates beyond its claim is caught when read (zipfile checks the CRC and
    # stops at the declared size).
    total = 0
    for member in members:
        total += member.file_size
        if total > ZIP_MAX_INFLATED:
            raise bomb
        if member.file_size > 1024 * 1024 and member.file_size > ZIP_MAX_RATIO * max(
            member.compress_size, 1
        ):
            raise bomb
    try:
        with archive.open("[Content_Types].xml") as part:
            head = part.read(64 * 1024)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
        raise bad from None
    if b"<Types" not in head:
        raise bad


# --- previews ----------------------------------------------------------------------------------

PREVIEW_WIDTH = 480


def preview_png(kind: str, data: bytes) -> bytes | None:
    """A small PNG of an image or of a PDF's first page; ``None`` for other kinds or a file
    that cannot be drawn."""
    from PIL import Image

    try:
        if kind == "pdf":
            import pypdfium2 as pdfium

            pdf = pdfium.PdfDocument(data)
            try:
                page = pdf[0]
                scale = PREVIEW_WIDTH / max(page.get_width(), 1)
                image = page.render(scale=scale).to_pil()
                page.close()
            finally:
                pdf.close()
        elif kind in ("png", "jpg"):
            Image.MAX_IMAGE_PIXELS = 60_000_000  # a decompression bomb is refused by Pillow
            image = Image.open(io.BytesIO(data))
            image.thumbnail((PREVIEW_WIDTH, PREVIEW_WIDTH * 2))
        else:
            return None
        out = io.BytesIO()
        image.convert("RGB").save(out, format="PNG", optimize=True)
        return out.getvalue()
    except Exception:  # a malformed file that passed the type check: no preview, not an error
        return None
