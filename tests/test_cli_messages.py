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


def test_show_with_a_postgresql_url_and_no_driver_names_the_package(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_psycopg2(name: str, *args: object, **kwargs: object) -> object:
        level = kwargs.get("level", args[3] if len(args) > 3 else 0)
        # absolute imports only: SQLAlchemy's own dialect modules (sqlalchemy.dialects.
        # postgresql.psycopg, imported relatively) must still load, as on a machine without them
        if level == 0 and name.split(".")[0] in ("psycopg", "psycopg2"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_psycopg2)
    url = "postgresql://alice:S3cretPW@127.0.0.1:1/optuna"
    assert main(["show", "s", "--storage", url]) == 2
    err = capsys.readouterr().err
    assert "needs the Python package `psycopg[binary]`" in err and "pip install" in err
    assert "S3cretPW" not in err and "Failed to import DB access module" not in err
