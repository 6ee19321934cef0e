"""An official's upload in a real browser (Debian's Chromium through Playwright) against a live
server: choose a good file and watch the progress bar reach 100% with the counts, then drop a
bad file on the page and get the error table and the errors CSV link."""

from __future__ import annotations

import pytest

from tests import factories
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


GOOD = (
    "单位代码,期间,数据项,数值,备注\r\n"
    '441900003001,2015,population.resident,"12,000",\r\n'
    "441900003001,2015,volunteers.registered,１５００,社区上报\r\n"
    "441900003002,2015,population.resident,8000,\r\n"
)
BAD = (
    "单位代码,期间,数据项,数值,备注\r\n"
    "441900003001,2015,population.resident,abc,\r\n"
    "441900101001,2015,population.resident,100,\r\n"
)
# Drops a file on the drop zone the way a desktop file manager does.
DROP = """([selector, name, text]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([text], name, { type: 'text/csv' }));
  const zone = document.querySelector(selector);
  for (const type of ['dragenter', 'dragover', 'drop']) {
    zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }
}"""


@pytest.fixture
def elements(db):

    pop = factories.element("population.resident", level="community")
    factories.element("volunteers.registered", level="community", not_above=pop)


def test_official_uploads_a_file_and_sees_progress_counts_and_errors(
    browser, live_server, cast, elements, tmp_path
):
    from districts.models import DataValue

    site = live_server.url
    page = browser.new_context(locale="zh-CN").new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{site}/accounts/login/?next=/data/uploads/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("form:has(#id_username) button[type=submit]")
    page.wait_for_url(f"{site}/data/uploads/")

    good = tmp_path / "东城2015.csv"
    good.write_bytes(GOOD.encode("gb18030"))  # what Excel writes on Chinese Windows
    page.set_input_files("#id_file", str(good))
    assert page.text_content("#chosen-file") == "东城2015.csv"
    page.click("#upload-submit")
    page.wait_for_selector("#upload-run[data-final='1']")
    assert page.eval_on_selector("#upload-bar", "bar => bar.value") == 100
    assert page.text_content("#upload-percent") == "100%"
    assert page.get_attribute("#upload-run", "data-state") == "succeeded"
    assert page.text_content("[data-count='total_rows']") == "3"
    assert page.text_content("[data-count='created']") == "3"
    assert page.is_hidden("#result-errors")
    assert DataValue.objects.filter(state="submitted").count() == 3

    page.evaluate(DROP, ["#dropzone", "bad.csv", BAD])
    assert page.text_content("#chosen-file") == "bad.csv"
    page.click("#upload-submit")
    page.wait_for_selector("#upload-run[data-state='failed']")
    page.wait_for_selector("#result-errors:not([hidden])")
    rows = page.eval_on_selector_all(
        "#result-errors tbody tr", "rows => rows.map(r => r.cells[0].textContent)"
    )
    assert rows == ["2", "3"]
    assert page.text_content("[data-count='error_count']") == "2"
    assert "441900101001" in page.text_content("#result-errors tbody")
    href = page.get_attribute("#errors-csv", "href")
    assert href.endswith("/errors.csv")
    csv = page.request.get(f"{site}{href}")
    assert csv.ok and "441900101001" in csv.text()
    assert DataValue.objects.count() == 3  # the bad file wrote nothing

    # The result links to the upload's own page with the same table.
    page.click("#result-detail")
    page.wait_for_selector(".errors-table tbody tr")
    assert page.get_attribute("#upload-run", "data-final") == "1"
