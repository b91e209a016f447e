"""A small soak of the issuing and backup side (invariants 1 and 10): the real `formtrail issue` and
`formtrail backup` killed with SIGKILL at random moments, again and again. Afterwards `formtrail verify`
passes, serials are unique and gap-free, a backup interrupted into a folder is simply taken again into it,
and no process is left behind. `make bench` runs the same with more trials (bench/bench_soak.py)."""

from __future__ import annotations

import pytest

from tests.helpers.soak import SoakSite, issue_backup_trials


@pytest.mark.slow
def test_sigkill_during_issue_and_backup_loses_nothing_and_blocks_nothing(tmp_path):
    site = SoakSite.create(tmp_path)
    outcomes = issue_backup_trials(site, trials=3, seed=11)
    assert outcomes.verify_exit == 0, outcomes.verify_output
    assert outcomes.serials == list(range(1, len(outcomes.serials) + 1))  # unique and gap-free
    assert outcomes.completed_issues >= 1  # the rerun after each kill went through at once
    assert outcomes.backup_ok, outcomes.backup_problems
    assert outcomes.leftover_processes == []
