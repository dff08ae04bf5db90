"""Which files may be attached, decided from the name and confirmed by the bytes; and how names are sent back."""

from __future__ import annotations

import io
import zipfile

import pytest

from attachments.kinds import NotAllowed, TooLarge, measure, media_type_of
from attachments.routes import content_disposition
from attachments.settings import DEFAULT_MAX_BYTES, AttachmentSettings


def _odt() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as odt:
        odt.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        odt.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


def _kind(name: str, content: bytes, declared: str | None = None) -> str:
    return media_type_of(name, declared, measure(io.BytesIO(content), 1 << 20))


@pytest.mark.parametrize("name, content, expected", [
    ("Minutes.PDF", b"%PDF-1.4\n...", "application/pdf"),
    ("photo.jpeg", b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
    ("chart.png", b"\x89PNG\r\n\x1a\n....", "image/png"),
    ("agenda.odt", _odt(), "application/vnd.oasis.opendocument.text"),
    ("report.docx", b"PK\x03\x04rest", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("notes.md", "# Dnevni red — točka 1\n".encode(), "text/markdown"),
])
def test_an_allowed_kind_is_recorded_with_its_own_media_type(name, content, expected):
    assert _kind(name, content) == expected
    assert _kind(name, content, "application/octet-stream") == expected


@pytest.mark.parametrize("name, content, declared, why", [
    ("macro.docm", b"PK\x03\x04", None, "allowed are"),
    ("no-extension", b"%PDF-1.4", None, "allowed are"),
    ("agenda.odt", b"PK\x03\x04 not an OpenDocument", None, "content is not"),
    ("page.txt", b"<html>\x00</html>", None, "content is not"),
    ("page.txt", b"caf\xe9", None, "content is not"),  # Latin-1, not UTF-8
    ("minutes.pdf", b"%PDF-1.4", "text/html", "sent as text/html"),
])
def test_a_kind_not_allowed_or_not_what_it_says_is_refused(name, content, declared, why):
    with pytest.raises(NotAllowed, match=why):
        _kind(name, content, declared)


def test_a_utf8_character_split_between_chunks_is_still_text():
    content = "é".encode() * ((1 << 20) // 2 + 1)  # the chunk boundary falls inside a character
    content = b"x" + content
    assert measure(io.BytesIO(content), 4 << 20).utf8


def test_measuring_stops_past_the_limit_and_rewinds_the_file():
    with pytest.raises(TooLarge):
        measure(io.BytesIO(b"x" * 11), 10)
    source = io.BytesIO(b"x" * 10)
    assert measure(source, 10).size == 10 and source.tell() == 0


def test_an_odd_name_is_sent_back_as_plain_ascii_and_as_utf8():
    assert content_disposition('Zapisnik "č"; v2.pdf') == (
        "attachment; filename=\"Zapisnik ____ v2.pdf\"; filename*=UTF-8''Zapisnik%20%22%C4%8D%22%3B%20v2.pdf")


def test_the_size_limit_is_25_mb_unless_set(monkeypatch):
    monkeypatch.delenv("SECRETARIAT_ATTACHMENT_MAX_BYTES", raising=False)
    assert AttachmentSettings().attachment_max_bytes == DEFAULT_MAX_BYTES == 25_000_000
    monkeypatch.setenv("SECRETARIAT_ATTACHMENT_MAX_BYTES", "1000")
    assert AttachmentSettings().attachment_max_bytes == 1000
