"""SE-01: `formtrail validation-report` runs the compliance tests in a child pytest and writes the validation pack
(PDF, results.json, junit.xml) reporting per requirement ID. Small selections only: the whole suite is `make
validation`'s job."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pypdfium2
import pytest

from app.services.integrity import checklist
from app.services.integrity.validation_report import README_SECTIONS, plain, readme_section
from tests.helpers.cli import CliRunner

ROOT = Path(__file__).resolve().parents[2]


def page_texts(pdf: Path) -> list[str]:
    """Each page's text as rendered, with the line breaks made spaces (the PDF is looked at, not trusted)."""
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        pages = []
        for i in range(len(doc)):
            page = doc[i]
            bitmap = page.render(scale=0.5)  # every page renders
            assert bitmap.width > 0
            pages.append(" ".join(page.get_textpage().get_text_range().split()))
        return pages
    finally:
        doc.close()


@pytest.fixture
def cli(tmp_path: Path) -> CliRunner:
    return CliRunner(tmp_path / "home")


def test_se01_the_pack_reports_each_requirement_with_its_tests_results_and_the_readme(cli, tmp_path) -> None:  # noqa: ANN001
    out = tmp_path / "pack"
    run = cli.run("validation-report", "--out", str(out), "--select", "test_se01_a_test_name_says", "--site",
                  "BSL-01 Basel QC", timeout=300)
    assert "8 passed" in run.stdout  # pytest's own progress came through
    assert "8 compliance tests: 8 passed, 0 failed, 0 skipped" in run.stdout
    assert {p.name for p in out.iterdir()} >= {"validation-report.pdf", "results.json", "junit.xml"}

    cases = ET.parse(out / "junit.xml").getroot().findall(".//testcase")
    assert len(cases) == 8
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    items, digest = checklist.load(checklist.locate(ROOT))
    assert results["checklist"]["sha256"] == digest and results["summary"]["passed"] == 8
    by_id = {r["id"]: r for r in results["requirements"]}
    assert list(by_id) == [i.rid for i in items]
    assert by_id["SE-01"]["status"] == "passed" and len(by_id["SE-01"]["tests"]) == 8
    assert by_id["AC-01"]["status"] == "not run" and by_id["AC-01"]["tagged_tests"] >= 1

    pages = page_texts(out / "validation-report.pdf")
    whole = " ".join(pages)
    cover = pages[0]
    for needle in ("Validation report", "BSL-01 Basel QC", results["build"], "-m compliance -k",
                   "test_se01_a_test_name_says", "REQUIREMENTS.md", "Environment", "SQLAlchemy", "zxing-cpp",
                   "reportlab", "PostgreSQL", "SQLite"):
        assert needle in cover, needle
    assert f"Page 1 of {len(pages)}" in cover and f"Page {len(pages)} of {len(pages)}" in pages[-1]
    assert "Traceability matrix" in whole
    se01 = next(i for i in items if i.rid == "SE-01")
    assert " ".join(plain(se01.acceptance).split()) in whole  # the acceptance test, quoted from the checklist
    assert "test_se01_a_test_name_says_which_items_it_proves[test_ac01_a_name_is_never_reused-ids0]" in \
        whole.replace(" ", "")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for title in README_SECTIONS:
        assert title in whole, title
        first = readme_section(readme, title).split("\n\n")[0]
        words = " ".join(plain(first).split())[:60]
        assert words and words in whole, title  # the README's own words, not a copy kept elsewhere


def test_se01_a_failing_compliance_test_fails_the_pack_and_is_named(cli, tmp_path) -> None:  # noqa: ANN001
    source = tmp_path / "source"
    (source / "tests").mkdir(parents=True)
    (source / "tests" / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text(encoding="utf-8"))
    (source / "tests" / "test_sample.py").write_text(textwrap.dedent("""
        import pytest

        def test_ac01_passes():
            assert True

        def test_ac02_fails():
            assert 1 == 2, "the administrator could sign"

        @pytest.mark.skip(reason="needs a printer")
        def test_at01_skipped():
            pass

        def test_not_a_requirement():
            assert False  # not a compliance test: never run by the pack
        """))
    requirements = tmp_path / "REQUIREMENTS.md"
    requirements.write_text(textwrap.dedent("""
        | ID | Source | Requirement | Acceptance test |
        |---|---|---|---|
        | **Access** ||||
        | AC-01 | P11 | Unique IDs. | Reuse refused. |
        | AC-02 | P11 | Least privilege. | Admin cannot sign. |
        | AC-03 | P11 | Audited users. | Grant shows. |
        | **Audit trail** ||||
        | AT-01 | P11 | Complete rows. | One row. |
        """), encoding="utf-8")
    cli.env["PYTHONPATH"] = str(ROOT)  # the sample's conftest imports the real test helpers
    out = tmp_path / "pack"
    run = cli.run("validation-report", "--out", str(out), "--source", str(source), "--requirements",
                  str(requirements), check=False, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 passed, 1 failed, 1 skipped" in run.stdout and "VALIDATION FAILED" in run.stdout
    assert "Requirements without tests: AC-03" in run.stdout
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    status = {r["id"]: r["status"] for r in results["requirements"]}
    assert status == {"AC-01": "passed", "AC-02": "failed", "AC-03": "no tests", "AT-01": "skipped"}
    assert results["summary"]["failed"] == 1 and results["summary"]["requirements_without_tests"] == ["AC-03"]
    whole = " ".join(page_texts(out / "validation-report.pdf"))
    assert "FAILED: a compliance test failed" in whole and "the administrator could sign" in whole
    assert "test_not_a_requirement" not in whole
    assert "(not in the README)" in whole  # the sample checkout has no README: said, not invented


def test_se01_a_build_without_its_tests_says_where_to_run_the_pack(cli, tmp_path) -> None:  # noqa: ANN001
    run = cli.run("validation-report", "--out", str(tmp_path / "pack"), "--source", str(tmp_path), check=False)
    assert run.returncode == 1 and "not beside this build" in run.stderr
    run = cli.run("validation-report", "--out", str(tmp_path / "pack"), "--requirements",
                  str(tmp_path / "nowhere.md"), check=False)
    assert run.returncode == 1 and "REQUIREMENTS.md) was not found" in run.stderr
    assert not (tmp_path / "pack").exists()
