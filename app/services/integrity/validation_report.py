"""The validation pack's PDF (validation-report.pdf) and results.json: cover, environment, summary, traceability
matrix, each checklist item with its tests and their results, and the README's threat model and data-flow map.

The threat model and the data-flow map are written once, in README.md; the pack reads those sections from the
README of the tested source tree, so the PDF and the README cannot say different things."""

from __future__ import annotations

import getpass
import json
import re
import socket
from pathlib import Path

from app.forms.render.report import KeyValues, ReportMeta, Section, Table, Text, render_report
from app.services.core.timefmt import local_text
from app.services.integrity.validation_pack import (
    ERROR,
    FAILED,
    PASSED,
    SKIPPED,
    XFAILED,
    PackRun,
    RequirementResult,
)

# The README sections the pack carries, by their heading.
README_SECTIONS = ("Threat model: assets, trust boundaries and controls",
                   "Integrity: the threat model and what is detected",
                   "Data flow: the original record at each step")
_INLINE = ((re.compile(r"\*\*(.+?)\*\*"), r"\1"), (re.compile(r"(?<!\w)\*(\S.*?)\*(?!\w)"), r"\1"),
           (re.compile(r"`([^`]+)`"), r"\1"), (re.compile(r"\[([^\]]+)\]\([^)]+\)"), r"\1"))


def plain(text: str) -> str:
    """Markdown inline marks dropped: the PDF shows the words, not the asterisks."""
    for pattern, repl in _INLINE:
        text = pattern.sub(repl, text)
    return text


def readme_section(readme: str, title: str) -> str:
    """The body of the README's "## title" section (up to the next "## " heading); "" when there is none."""
    lines, inside, body = readme.splitlines(), False, []
    fenced = False
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            if inside:
                break
            inside = line[3:].strip() == title
            continue
        if inside:
            body.append(line)
    return "\n".join(body).strip()


def markdown_sections(body: str, heading: str) -> list[Section]:
    """A README section as report sections: paragraphs and list items as text, pipe tables as tables, code as
    it is written. The first block carries ``heading``; "### " sub-headings head the blocks below them."""
    out: list[Section] = []
    pending: str | None = heading
    block: list[str] = []
    kind = "text"

    def flush() -> None:
        nonlocal pending, block, kind
        if block:
            if kind == "table":
                rows = [[plain(c.strip()) for c in line.strip().strip("|").split("|")] for line in block
                        if not re.fullmatch(r"\|?[\s:|-]+\|?", line.strip())]
                out.append(Table(columns=rows[0], rows=rows[1:], heading=pending))
            else:
                text = "\n".join(block) if kind == "code" else " ".join(s.strip() for s in block)
                out.append(Text(text if kind == "code" else plain(text), heading=pending))
            pending = None
        block, kind = [], "text"

    for line in body.splitlines():
        if kind == "code":
            if line.startswith("```"):
                flush()
            else:
                block.append(line)
            continue
        if line.startswith("```"):
            flush()
            kind = "code"
        elif line.startswith("### "):
            flush()
            pending = plain(line[4:].strip())
        elif line.strip().startswith("|"):
            if kind != "table":
                flush()
                kind = "table"
            block.append(line)
        elif not line.strip():
            flush()
        elif re.match(r"\s*(?:[*-]|\d+\.)\s", line) and block:
            flush()  # each list item its own paragraph
            block.append(line)
        else:
            if kind == "table":
                flush()
            block.append(line)
    flush()
    return out


def _counts(r: RequirementResult) -> tuple[int, int, int]:
    passed = sum(t.outcome == PASSED for t in r.tests)
    failed = sum(t.outcome in (FAILED, ERROR) for t in r.tests)
    return passed, failed, len(r.tests) - passed - failed


def _cover(run: PackRun, site: str) -> KeyValues:
    verdict = ("FAILED: a compliance test failed or could not run" if run.failed
               else "passed: every selected compliance test passed")
    return KeyValues(heading="Validation pack", pairs=[
        ("Site", site), ("Date", local_text(run.started)), ("Build", run.build), ("Result", verdict),
        ("Tests run", run.selection), ("Source tree", str(run.source)),
        ("Checklist", f"{run.checklist} (SHA-256 {run.checklist_sha256})"),
        ("Run by", f"{getpass.getuser()} on {socket.gethostname()}"),
    ])


def _summary(run: PackRun) -> list[Section]:
    missing = run.without_tests()
    not_run = [r.requirement.rid for r in run.requirements if r.status == "not run"]
    failed = [r.requirement.rid for r in run.requirements if r.status == FAILED]
    pairs = [("Tests", str(len(run.tests))), ("Passed", str(run.count(PASSED))),
             ("Failed", str(run.count(FAILED) + run.count(ERROR))),
             ("Skipped", str(run.count(SKIPPED) + run.count(XFAILED))),
             ("Requirements", f"{len(run.requirements)}: {sum(r.status == PASSED for r in run.requirements)} "
                              f"proved by passing tests, {len(failed)} with a failing test"),
             ("Requirements failing", ", ".join(failed) or "none"),
             ("Requirements without tests", ", ".join(missing) or "none"),
             ("Requirements not run in this selection", ", ".join(not_run) or "none"),
             ("pytest exit code", str(run.pytest_exit))]
    sections: list[Section] = [KeyValues(heading="Summary", pairs=pairs)]
    failures = [t for t in run.tests if t.outcome in (FAILED, ERROR)]
    if failures:
        sections.append(Table(heading="Failed tests", columns=["Test", "Requirements", "Message"],
                              rows=[[t.nodeid, " ".join(t.requirements), t.message] for t in failures],
                              widths=[4, 1.3, 4], highlight_rows=frozenset(range(len(failures)))))
    return sections


def _matrix(run: PackRun) -> Table:
    rows = [[r.requirement.rid, plain(r.requirement.text), str(r.tagged), *map(str, _counts(r)), r.status.upper()]
            for r in run.requirements]
    bad = frozenset(i for i, r in enumerate(run.requirements) if r.status in (FAILED, "no tests"))
    return Table(heading="Traceability matrix", columns=["ID", "Requirement", "Tests", "Pass", "Fail",
                                                         "Skip", "Result"],
                 rows=rows, widths=[0.9, 7, 0.8, 0.8, 0.8, 0.8, 1.3], highlight_rows=bad)


def _requirement(r: RequirementResult) -> list[Section]:
    req = r.requirement
    head = KeyValues(heading=f"{req.rid} · {req.area}", pairs=[
        ("Requirement", plain(req.text)), ("Acceptance test", plain(req.acceptance)), ("Source", req.source),
        ("Result", f"{r.status.upper()} ({len(r.tests)} run of {r.tagged} tagged)")])
    if not r.tests:
        return [head]
    return [head, Table(columns=["Test", "Result", "Seconds"],
                        rows=[[t.nodeid, t.outcome + (f": {t.message}" if t.message else ""), f"{t.seconds:.2f}"]
                              for t in r.tests],
                        widths=[6, 2.5, 0.8],
                        highlight_rows=frozenset(i for i, t in enumerate(r.tests) if t.outcome in (FAILED, ERROR)))]


def sections(run: PackRun, *, site: str, readme: str) -> list[Section]:
    out: list[Section] = [_cover(run, site), KeyValues(heading="Environment", pairs=list(run.environment))]
    out += _summary(run)
    out.append(_matrix(run))
    for r in run.requirements:
        out += _requirement(r)
    if run.untagged:
        out.append(Table(heading="Compliance tests naming no checklist ID", columns=["Test"],
                         rows=[[n] for n in run.untagged]))
    for title in README_SECTIONS:
        body = readme_section(readme, title)
        out += markdown_sections(body, title) if body else [Text("(not in the README)", heading=title)]
    return out


def write(run: PackRun, out: Path, *, site: str) -> tuple[Path, Path]:
    """validation-report.pdf and results.json in ``out``."""
    readme_path = run.source / "README.md"
    readme = readme_path.read_text(encoding="utf-8") if readme_path.is_file() else ""
    pdf, results = out / "validation-report.pdf", out / "results.json"
    meta = ReportMeta(title="Validation report", site=site,
                      printed_by=f"{getpass.getuser()} (operating-system account)",
                      printed_at=local_text(run.started), app_version=run.build)
    render_report(pdf, meta, sections(run, site=site, readme=readme))
    results.write_text(json.dumps(run.as_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    return pdf, results
