"""From a meeting's page, a signed-in person downloads the Secretariat's report as a Word document."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from datetime import date, timedelta

import docx

from report.outline import HEADINGS, TITLE
from tests.browser.conftest import sign_in


def _planned_meeting(server_url: str) -> str:
    """A Committee meeting planned through the API as sara; its id."""
    form = urllib.parse.urlencode({"username": "sara", "password": "sara"}).encode()
    with urllib.request.urlopen(f"{server_url}/auth/token", data=form, timeout=10) as response:
        token = json.load(response)["access_token"]
    starts = (date.today() + timedelta(days=30)).isoformat()
    body = json.dumps({"body": "com", "title": "Committee of Ministers", "number": "9th", "place": "Skopje",
                       "starts_on": starts, "ends_on": starts}).encode()
    request = urllib.request.Request(f"{server_url}/meetings", data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["id"]


def test_sara_downloads_the_report_from_the_meeting_page_and_word_opens_it(page, server_url, tmp_path):
    meeting_id = _planned_meeting(server_url)
    sign_in(page, "sara")
    page.goto(f"/ui/meetings/{meeting_id}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Word (.docx)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".docx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    document = docx.Document(str(saved))
    assert document.paragraphs[0].text == f"{TITLE}: 9th Committee of Ministers"
    assert [p.text for p in document.paragraphs if p.style.name.startswith("Heading")] == list(HEADINGS)


def test_the_printable_report_opens_as_a_page_with_its_sections(page, server_url):
    meeting_id = _planned_meeting(server_url)
    sign_in(page, "erik")
    page.goto(f"/ui/meetings/{meeting_id}/report")
    assert page.locator("h1").inner_text() == f"{TITLE}: 9th Committee of Ministers"
    assert page.locator("h2, h3").all_inner_texts() == list(HEADINGS)
