"""Clear messages: an unknown option of a config group suggests an option of that group."""

from __future__ import annotations

import pytest

from mmopt.cli import main
from mmopt.cli._hydra import list_group_options


@pytest.mark.parametrize("group", ["objective", "strategy", "study", "objective/kpi"])
def test_an_unknown_group_option_suggests_one_of_that_group(
    group: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sweep", f"{group}=nope"]) == 2
    err = capsys.readouterr().err
    first = list_group_options(group)[0]
    assert f"(fix: pick one of the options listed, e.g. {group}={first})" in err
    if group != "strategy":
        assert "strategy=price_follow" not in err
