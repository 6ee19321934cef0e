"""Text out of a plan file: TXT (UTF-8 or GB18030), DOCX, or a PDF with a text layer.

The text returned is what every span points into, so it is returned exactly as read (line
ends normalised to ``\\n``, nothing else). Anything that cannot be read as text is refused with
a message that says why and what to do, never an empty document.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from core.text import bilingual

MAX_BYTES = 20 * 1024 * 1024
TYPES = (".txt", ".docx", ".pdf")


class DocumentError(ValueError):
    """A file that yields no text to extract from; the message is for the person uploading."""


def read_document(data: bytes, filename: str = "") -> str:
    """The text of an uploaded or given file, by its content (the name only breaks ties)."""
    if len(data) > MAX_BYTES:
        raise DocumentError(bilingual("文件超过 20 MB", "the file is larger than 20 MB"))
    suffix = Path(filename).suffix.lower()
    if data.startswith(b"%PDF"):
        text = _pdf_text(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise DocumentError(
            bilingual(
                "文件已加密或为旧版 Word（.doc）格式，请另存为未加密的 .docx、PDF 或 TXT",
                "the file is encrypted or an old Word .doc: save it as an unencrypted .docx, "
                "PDF or TXT",
            )
        )
    elif data.startswith(b"PK"):
        text = _docx_text(data)
    elif suffix in (".pdf", ".docx"):
        raise DocumentError(
            bilingual(f"文件不是有效的 {suffix[1:].upper()}", f"not a valid {suffix[1:].upper()}")
        )
    elif suffix not in ("", ".txt", ".text"):
        raise DocumentError(
            bilingual("仅支持 TXT、DOCX 和 PDF 文件", "only TXT, DOCX and PDF files are read")
        )
    else:
        text = _plain_text(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DocumentError(bilingual("文件中没有文字", "the file holds no text"))
    return text


def _plain_text(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise DocumentError(bilingual("文件不是文本文件", "not a text file (binary content)"))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DocumentError(
        bilingual("文本编码无法识别（须为 UTF-8 或 GB18030）", "text is neither UTF-8 nor GB18030")
    )


def _docx_text(data: bytes) -> str:
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(bilingual("文件不是有效的 DOCX", "not a valid DOCX file")) from exc
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def _pdf_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise DocumentError(
                bilingual(
                    "PDF 已加密（需要密码），请提供未加密的文件",
                    "the PDF is encrypted (password required): upload an unencrypted copy",
                )
            ) from exc
        raise DocumentError(bilingual("文件不是有效的 PDF", "not a valid PDF file")) from exc
    try:
        pages = []
        for page in pdf:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
    finally:
        pdf.close()
    text = "\n".join(pages)
    if not text.strip():
        raise DocumentError(
            bilingual(
                "PDF 没有文字层（是扫描图像），请先做文字识别（OCR）或提供 TXT/DOCX",
                "the PDF has no text layer (scanned images): run OCR first or upload TXT/DOCX",
            )
        )
    return text
