"""SE-01: `pytest -m compliance` selects, for every ID of the checklist (REQUIREMENTS.md), tests that prove it.

The tests are found the way pytest finds them (a collection run with tests/conftest.py's --compliance-map), so
the hook that tags test_<id>_... names and @pytest.mark.compliance("RC-07") is what is checked."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.services.integrity import checklist
from tests.conftest import requirement_ids

ROOT = Path(__file__).resolve().parents[2]


def collect(tmp_path: Path, *args: str, tests: Path = ROOT / "tests") -> tuple[dict[str, list[str]], str]:
    """{node id: requirement IDs} of the compliance tests a `pytest -m compliance` run collects, and its output."""
    target = tmp_path / "map.json"
    # The root directory named, not guessed: pytest takes the common ancestor of the working directory and the
    # tests, which for a checkout under /tmp and a sample in /tmp/pytest-of-… is /tmp (node ids then differ).
    root = ROOT if tests == ROOT / "tests" else tests
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                          "-p", "no:randomly", "-m", "compliance", f"--compliance-map={target}",
                          f"--rootdir={root}", *args, str(tests)],
                         cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert target.is_file(), run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads(target.read_text(encoding="utf-8")), run.stdout + run.stderr


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[str]], str]:
    return collect(tmp_path_factory.mktemp("compliance"))


@pytest.fixture(scope="module")
def checklist_ids() -> list[str]:
    source = checklist.source_tree()
    assert source is not None
    items, _digest = checklist.load(checklist.locate(source))
    assert len(items) >= 50 and items[0].rid == "AC-01"  # the table was read, not a few stray rows
    return [item.rid for item in items]


def _uncovered(collected: tuple[dict[str, list[str]], str], ids: list[str]) -> list[str]:
    tagged = {rid for found in collected[0].values() for rid in found}
    return [rid for rid in ids if rid not in tagged]


def test_se01_every_checklist_id_has_a_compliance_test(collected, checklist_ids) -> None:  # noqa: ANN001
    missing = _uncovered(collected, checklist_ids)
    assert missing == [], f"no test tagged with {missing}; collection said:\n{collected[1][-2000:]}"


def test_se01_every_tagged_id_is_a_checklist_id(collected, checklist_ids) -> None:  # noqa: ANN001
    unknown = {rid: node for node, found in collected[0].items() for rid in found if rid not in checklist_ids}
    assert unknown == {}


@pytest.mark.parametrize(("name", "ids"), [
    ("test_ac01_a_name_is_never_reused", ["AC-01"]),
    ("test_pr01_es01_record_pdf_reads_as_people_write", ["PR-01", "ES-01"]),
    ("TestAT05SystemEvents", ["AT-05"]),
    ("test_at03", ["AT-03"]),
    ("test_inv1_serials_have_no_gaps", []),  # a design invariant, not a checklist ID
    ("test_account_locks", []),
    ("test_xx01_unknown_area", []),
    ("test_ac1_one_digit", []),
])
def test_se01_a_test_name_says_which_items_it_proves(name: str, ids: list[str]) -> None:
    assert requirement_ids(name) == ids


def test_se01_names_classes_modules_and_markers_tag_tests_and_the_rest_stay_out(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text(encoding="utf-8"))
    (tests / "test_tm02_module.py").write_text("def test_anything():\n    pass\n")
    (tests / "test_sample.py").write_text(textwrap.dedent("""
        import pytest

        def test_rc01_bk01_two_items():
            pass

        class TestES06Order:
            def test_blocked(self):
                pass

        @pytest.mark.compliance("RC-07", "pr-01")
        def test_named_otherwise():
            pass

        @pytest.mark.compliance
        def test_marked_without_an_id():
            pass

        def test_not_a_requirement():
            pass

        @pytest.mark.parametrize("n", [1, 2])
        def test_ac05_each(n):
            pass
        """))
    found, output = collect(tmp_path, tests=tests)
    assert found == {
        "test_sample.py::test_rc01_bk01_two_items": ["RC-01", "BK-01"],
        "test_sample.py::TestES06Order::test_blocked": ["ES-06"],
        "test_sample.py::test_named_otherwise": ["RC-07", "PR-01"],
        "test_sample.py::test_marked_without_an_id": [],
        "test_sample.py::test_ac05_each[1]": ["AC-05"],
        "test_sample.py::test_ac05_each[2]": ["AC-05"],
        "test_tm02_module.py::test_anything": ["TM-02"],
    }, output
    assert "7/8 tests collected (1 deselected)" in output  # -m compliance leaves test_not_a_requirement out


def test_se01_a_marker_argument_that_is_not_an_id_is_refused(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text(encoding="utf-8"))
    (tests / "test_bad.py").write_text("import pytest\n\n@pytest.mark.compliance('RC07')\ndef test_x():\n    pass\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                          str(tests)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "not 'RC07'" in run.stdout + run.stderr


def test_se01_the_shipped_checklist_is_the_shared_one() -> None:
    """The checklist the validation pack reads ships with the code (docs/REQUIREMENTS.md: a clean checkout or an
    installed build has no ../shared); where the shared original is at hand, the copy must equal it."""
    shipped = ROOT / "docs" / "REQUIREMENTS.md"
    assert shipped.is_file()
    shared = ROOT.parent / "shared" / "REQUIREMENTS.md"
    if shared.is_file():
        assert shipped.read_bytes() == shared.read_bytes(), "docs/REQUIREMENTS.md is out of date: copy it again"
