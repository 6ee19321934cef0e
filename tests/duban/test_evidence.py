"""Evidence files: the kind comes from the content, bad files are refused with a clear message
and leave nothing stored, and the accepted ones get previews."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError

from duban import evidence as ev
from duban import rules, services
from duban.models import Evidence, TaskProgressReport
from tests.duban.conftest import docx_bytes, pdf_bytes, png_bytes, xlsx_bytes

LIMIT = 1024 * 1024
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 200
WINDOWS_EXE = b"MZ\x90\x00\x03" + b"\x00" * 200


def zip_bomb() -> bytes:
    """A DOCX-shaped archive whose one extra member inflates 50 MB from ~50 KB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("word/media/bomb.xml", b"0" * (50 * 1024 * 1024))
    return out.getvalue()


def many_bombs() -> bytes:
    """Many members each under the ratio check but together past the inflated total."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        for i in range(260):
            z.writestr(f"word/p{i}.xml", b"0" * (900 * 1024))
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("report.pdf", pdf_bytes, "pdf"),
        ("照片.png", png_bytes, "png"),
        ("说明.docx", docx_bytes, "docx"),
        ("台账.xlsx", xlsx_bytes, "xlsx"),
        ("named-wrong.txt", pdf_bytes, "pdf"),  # the content decides, not the name
    ],
)
def test_accepted_kinds_are_read_from_the_content(name, data, kind):
    checked = ev.check_file(name=name, data=data(), max_bytes=LIMIT)
    assert checked.kind == kind


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("evidence.pdf", ELF, "不是可接受的文件类型"),
        ("evidence.pdf", WINDOWS_EXE, "不是可接受的文件类型"),
        ("notes.pdf", "只是文字".encode(), "不是可接受的文件类型"),
        ("empty.pdf", b"", "空文件"),
        ("bomb.docx", zip_bomb(), "压缩炸弹"),
        ("bombs.docx", many_bombs(), "压缩炸弹"),
        ("fake.docx", docx_bytes()[:-30], "不是有效的 DOCX"),
        ("../../etc/passwd.pdf", pdf_bytes(), "路径分隔符"),
        ("..\\evil.pdf", pdf_bytes(), "路径分隔符"),
        ("bad\x00name.pdf", pdf_bytes(), "控制字符"),
        ("line\nbreak.pdf", pdf_bytes(), "控制字符"),
        ("rtl\u202egpj.pdf", pdf_bytes(), "控制字符"),
    ],
)
def test_bad_files_are_refused_with_a_clear_bilingual_message(name, data, message):
    with pytest.raises(ev.EvidenceError) as refused:
        ev.check_file(name=name, data=data, max_bytes=100 * 1024 * 1024)
    assert message in str(refused.value)
    assert "（" in str(refused.value)


def test_a_file_over_the_limit_is_refused():
    with pytest.raises(ev.EvidenceError, match="超过大小上限 1 MB"):
        ev.check_file(name="big.pdf", data=b"%PDF-1.7\n" + b"0" * LIMIT, max_bytes=LIMIT)


def test_a_docx_without_its_document_part_is_not_a_docx():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/styles.xml", "<x/>")
    with pytest.raises(ev.EvidenceError):
        ev.check_file(name="a.docx", data=out.getvalue(), max_bytes=LIMIT)


def test_previews_of_a_pdf_page_and_an_image_are_pngs():
    for kind, data in (("pdf", pdf_bytes()), ("png", png_bytes())):
        png = ev.preview_png(kind, data)
        assert png is not None and png.startswith(b"\x89PNG")
    assert ev.preview_png("docx", docx_bytes()) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("evidence.pdf", ELF),
        ("bomb.docx", zip_bomb()),
        ("a/b.pdf", pdf_bytes()),
        ("big.pdf", b"%PDF-1.7\n" + b"0" * (LIMIT + 1)),
    ],
)
def test_a_refused_file_stores_nothing_not_even_the_good_file_beside_it(
    dongcheng_task, cast, media, settings, name, data
):
    settings.EVIDENCE_MAX_BYTES = LIMIT
    services.task_transition(actor=cast["alice"], task=dongcheng_task, to=rules.ACKNOWLEDGED)
    services.task_transition(actor=cast["alice"], task=dongcheng_task, to=rules.IN_PROGRESS)
    with pytest.raises(ValidationError) as refused:
        services.task_transition(
            actor=cast["alice"],
            task=dongcheng_task,
            to=rules.REPORTED,
            files=[("good.pdf", pdf_bytes()), (name, data)],
        )
    assert "evidence" in refused.value.message_dict
    assert not Evidence.objects.exists()
    assert not TaskProgressReport.objects.exists()
    assert not (media / "evidence").exists() or not any((media / "evidence").rglob("*.*"))
    dongcheng_task.refresh_from_db()
    assert dongcheng_task.state == rules.IN_PROGRESS


@pytest.mark.django_db
def test_stored_files_have_unguessable_names_under_evidence(dongcheng_task, cast, media):
    services.task_transition(actor=cast["alice"], task=dongcheng_task, to=rules.ACKNOWLEDGED)
    services.progress_report_add(
        actor=cast["alice"], task=dongcheng_task, text="进展",
        files=[("东城 进展.pdf", pdf_bytes()), ("东城 进展.pdf", pdf_bytes())],
    )  # fmt: skip
    first, second = Evidence.objects.order_by("id")
    assert first.file.name.startswith("evidence/") and first.file.name.endswith(".pdf")
    assert "东城" not in first.file.name and first.file.name != second.file.name
    assert len(first.file.name.rsplit("/", 1)[1]) >= 32
    assert (media / first.file.name).read_bytes()[:5] == b"%PDF-"
    assert first.original_name == "东城 进展.pdf"
