"""Reading plan files for extraction: TXT (UTF-8, GB18030), DOCX, PDF with a text layer; and
the messages for what cannot be read (image-only PDF, encrypted file, not a document)."""

from __future__ import annotations

import io

import pytest

from targets.extraction.reading import DocumentError, read_document

SENTENCE = "到2015年,全市注册志愿者占常住人口的12%以上。"


def _pdf(objects: list[str], trailer_extra: str = "") -> bytes:
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R {trailer_extra}>>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return out


def _stream(content: str) -> str:
    return f"<< /Length {len(content.encode())} >>\nstream\n{content}\nendstream"


def text_pdf(text: str) -> bytes:
    """A one-page PDF whose text layer holds ``text`` (a CID font with a ToUnicode map: what
    a text extractor reads, whatever glyphs a viewer would draw)."""
    chars = sorted(set(text) - {"\n"})
    cid = {c: i + 1 for i, c in enumerate(chars)}
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /X def "
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        f"{len(chars)} beginbfchar\n"
        + "".join(f"<{cid[c]:04X}> <{ord(c):04X}>\n" for c in chars)
        + "endbfchar endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    lines = "".join(
        "<" + "".join(f"{cid[c]:04X}" for c in line) + "> Tj T*\n" for line in text.split("\n")
    )
    return _pdf([
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H "
        "/DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        _stream(f"BT /F1 10 Tf 20 800 Td 12 TL\n{lines}ET"),
        "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /STSong-Light /CIDSystemInfo "
        "<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 8 0 R "
        "/CIDToGIDMap /Identity >>",
        _stream(cmap),
        "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 4 /FontBBox [0 0 1000 1000] "
        "/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 80 >>",
    ])  # fmt: skip


def image_only_pdf() -> bytes:
    """A scanned page: drawing only, no text layer."""
    return _pdf([
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        _stream("0 0 0 rg 50 50 200 300 re f"),
    ])  # fmt: skip


def encrypted_pdf() -> bytes:
    """A PDF protected by a user password (standard security handler)."""
    return _pdf(
        [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
            "<< /Filter /Standard /V 1 /R 2 /O <" + "11" * 32 + "> /U <" + "22" * 32
            + "> /P -4 >>",
        ],
        trailer_extra="/Encrypt 4 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> "
        "<0123456789ABCDEF0123456789ABCDEF>] ",
    )  # fmt: skip


def docx_bytes(*paragraphs: str) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "指标"
    table.rows[0].cells[1].text = "不低于80%"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_utf8_text_with_a_bom_and_crlf_line_ends():
    data = ("\ufeff第一条\r\n" + SENTENCE).encode("utf-8")
    assert read_document(data, "plan.txt") == "第一条\n" + SENTENCE


def test_gb18030_text():
    assert read_document(SENTENCE.encode("gb18030"), "plan.txt") == SENTENCE


def test_docx_paragraphs_and_tables():
    text = read_document(docx_bytes("一、目标任务", SENTENCE), "plan.docx")
    assert text == "一、目标任务\n" + SENTENCE + "\n指标\t不低于80%"


def test_pdf_text_layer_is_read():
    text = read_document(text_pdf("一、目标任务\n" + SENTENCE), "plan.pdf")
    assert SENTENCE in text and "目标任务" in text


def test_image_only_pdf_is_refused_with_a_hint_to_run_ocr():
    with pytest.raises(DocumentError, match=r"没有文字层.*OCR"):
        read_document(image_only_pdf(), "scan.pdf")


def test_password_protected_pdf_is_refused():
    with pytest.raises(DocumentError, match="PDF 已加密"):
        read_document(encrypted_pdf(), "locked.pdf")


def test_encrypted_office_file_is_refused():
    # Encrypted DOCX files are OLE compound files, like old .doc files.
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    with pytest.raises(DocumentError, match="已加密"):
        read_document(data, "locked.docx")


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"%PDF-1.4 broken", "x.pdf", "不是有效的 PDF"),
        (b"PK\x03\x04 not a zip", "x.docx", "不是有效的 DOCX"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "x.png", "仅支持 TXT、DOCX 和 PDF"),
        (b"\x00\x01\x02binary", "x.txt", "不是文本文件"),
        (b"   \n\n", "x.txt", "没有文字"),
    ],
)
def test_what_is_not_a_readable_document(data, name, message):
    with pytest.raises(DocumentError, match=message):
        read_document(data, name)
