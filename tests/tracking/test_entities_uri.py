"""Key cleaning, value limits, batch splitting and store locations (no MLflow store needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tracking_builders import trial

from mmopt.errors import ConfigError
from mmopt.tracking._entities import (
    MAX_ENTITIES_PER_BATCH,
    MAX_METRICS_PER_BATCH,
    MAX_PARAM_VALUE,
    MAX_PARAMS_TAGS_PER_BATCH,
    MAX_TAG_VALUE,
    chunk_rows,
    clean_key,
    clip,
    flat_params,
    metric_key,
    trial_rows,
)
from mmopt.tracking._uri import mask_credentials, resolve_location


def test_limits_match_the_installed_mlflow() -> None:
    from mlflow.utils import validation

    assert validation.MAX_PARAM_VAL_LENGTH == MAX_PARAM_VALUE
    assert validation.MAX_TAG_VAL_LENGTH == MAX_TAG_VALUE
    assert validation.MAX_METRICS_PER_BATCH == MAX_METRICS_PER_BATCH
    assert validation.MAX_PARAMS_TAGS_PER_BATCH == MAX_PARAMS_TAGS_PER_BATCH
    assert validation.MAX_ENTITIES_PER_BATCH == MAX_ENTITIES_PER_BATCH


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("net_pnl", "net_pnl"),
        ("binance-spot.BTCUSDT", "binance-spot.BTCUSDT"),
        ("a/b:c=d", "a_b_c_d"),
        ("..", "_.."),
        ("", "_"),
    ],
)
def test_clean_key(raw: str, clean: str) -> None:
    assert clean_key(raw) == clean


@given(st.text(max_size=300))
def test_clean_key_is_always_a_valid_mlflow_name(raw: str) -> None:
    from mlflow.utils.validation import path_not_unique, validate_param_and_metric_name

    key = clean_key(raw)
    assert validate_param_and_metric_name(key) and not path_not_unique(key)
    assert 1 <= len(key) <= 250


def test_metric_key_prefixes_the_security() -> None:
    assert metric_key("net_pnl") == "net_pnl"
    assert metric_key("net_pnl", "binance-spot.ETHUSDT") == "sec.binance-spot.ETHUSDT.net_pnl"


def test_clip_marks_what_it_cuts() -> None:
    assert clip("abc", 10) == "abc"
    cut = clip("x" * 50, 20)
    assert len(cut) == 20 and cut == "xxxxxx...[truncated]"
    assert clip(None, 5) == ""


def test_flat_params_dotted_keys_and_lists() -> None:
    nested = {"study": {"name": "s", "sampler": {"seed": 42}}, "rungs": [0.25, 0.5], "x": None}
    assert flat_params(nested) == {
        "study.name": "s",
        "study.sampler.seed": "42",
        "rungs": "[0.25, 0.5]",
        "x": "null",
    }


@given(
    st.integers(0, 2600),
    st.integers(0, 250),
    st.integers(0, 250),
)
def test_chunks_respect_every_limit_and_keep_order(n_m: int, n_p: int, n_t: int) -> None:
    metrics = list(range(n_m))
    params = [(f"p{i}", "v") for i in range(n_p)]
    tags = [(f"t{i}", "v") for i in range(n_t)]
    chunks = list(chunk_rows(metrics, params, tags))
    for m, p, t in chunks:
        assert len(m) <= MAX_METRICS_PER_BATCH
        assert len(p) <= MAX_PARAMS_TAGS_PER_BATCH and len(t) <= MAX_PARAMS_TAGS_PER_BATCH
        assert len(m) + len(p) + len(t) <= MAX_ENTITIES_PER_BATCH
        assert m or p or t
    assert [x for m, _, _ in chunks for x in m] == metrics
    assert [x for _, p, _ in chunks for x in p] == params
    assert [x for _, _, t in chunks for x in t] == tags
    if n_m <= 800 and n_p <= 100 and n_t <= 100:
        assert len(chunks) <= 1  # a usual trial is one call


def test_trial_rows_names() -> None:
    rows = trial_rows(trial(3, extra_metrics=[("sharpe", float("nan"))]), ("score",))
    metrics = dict(rows.metrics)
    assert metrics["net_pnl"] == 30.0 and "sec.SYN0.net_pnl" not in metrics
    assert metrics["objective.score"] == 30.0
    assert "sharpe" not in metrics
    tags = dict(rows.tags)
    assert tags["trial_state"] == "COMPLETE" and tags["nonfinite_metrics"] == "sharpe"
    assert tags["feasible"] == "true"


def test_default_location_is_sqlite_in_the_run_dir(tmp_path: Path) -> None:
    loc = resolve_location(None, tmp_path / "runs")
    assert loc.tracking_uri == f"sqlite:///{tmp_path}/runs/mlflow.db"
    assert loc.artifact_root == tmp_path / "runs" / "mlartifacts"
    assert loc.ui_command() == (
        f"mlflow ui --backend-store-uri sqlite:///{tmp_path}/runs/mlflow.db "
        f"--default-artifact-root {tmp_path}/runs/mlartifacts"
    )


def test_relative_sqlite_uri_becomes_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    loc = resolve_location("sqlite:///runs/mlflow.db", Path("elsewhere"))
    assert loc.tracking_uri == f"sqlite:///{tmp_path}/runs/mlflow.db"
    assert loc.sqlite_path == tmp_path / "runs" / "mlflow.db"


def test_server_and_database_locations() -> None:
    http = resolve_location("http://mlflow:5000", Path("runs"))
    assert http.is_remote and http.ui_command() is None and http.artifact_location() is None
    pg = resolve_location("postgresql://u:p@db/mlflow", Path("runs"))
    assert not pg.is_remote
    assert pg.ui_command() == "mlflow ui --backend-store-uri postgresql://u:p@db/mlflow"


def test_quoting_in_ui_command(tmp_path: Path) -> None:
    loc = resolve_location(None, tmp_path / "my runs")
    assert f"'sqlite:///{tmp_path}/my runs/mlflow.db'" in str(loc.ui_command())


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("sqlite://relative.db", "not a SQLite file URI"),
        ("sqlite:///:memory:", "in-memory SQLite store would lose the sweep"),
        ("ftp://host/x", "unsupported scheme 'ftp'"),
    ],
)
def test_bad_tracking_uri_names_the_key(uri: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        resolve_location(uri, Path("runs"))
    assert str(info.value).startswith("tracking.tracking_uri:")


def test_mask_credentials() -> None:
    assert mask_credentials("postgresql://bob:pw@db:5432/x") == "postgresql://bob:***@db:5432/x"
    assert mask_credentials("sqlite:///runs/optuna.db") == "sqlite:///runs/optuna.db"
    assert mask_credentials("redis://:pw@host:6379/0") == "redis://:***@host:6379/0"
    assert mask_credentials(None) == ""


def test_a_full_trial_logs_the_compared_metrics_only() -> None:
    """Every metric of mmopt.metrics on 40 securities: the run keeps 14 metrics, the table
    artifact keeps everything (one row per security and one over all)."""
    import csv
    import io
    from dataclasses import replace

    from mmopt.metrics import METRIC_NAMES
    from mmopt.tracking import SecurityMetrics
    from mmopt.tracking._entities import TRIAL_METRICS, securities_csv

    every = tuple((name, float(i)) for i, name in enumerate(METRIC_NAMES))
    securities = tuple(SecurityMetrics(f"S{i}", every) for i in range(40))
    record = replace(trial(1), metrics=every, per_security=securities, constraints=(0.5, -1.0))
    names = [k for k, _ in trial_rows(record, ("score",)).metrics]
    assert names == [*TRIAL_METRICS, "objective.score", "kpi_failures", "trial_duration_s",
                     "shards_evaluated"]
    assert dict(trial_rows(record, ("score",)).metrics)["kpi_failures"] == 1.0
    text = securities_csv(record)
    assert text is not None
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["security"] for r in rows] == ["ALL", *(f"S{i}" for i in range(40))]
    assert list(rows[0])[1:] == list(METRIC_NAMES)
    assert float(rows[5]["cvar95"]) == float(METRIC_NAMES.index("cvar95"))


def test_fold_and_out_of_sample_runs_have_their_own_keys_names_and_tags() -> None:
    from dataclasses import replace

    from mmopt.tracking._entities import run_name

    plain, fold, oos = trial(3), replace(trial(3), fold=1), replace(trial(3), fold=1,
                                                                     out_of_sample=True)
    assert [r.key for r in (plain, fold, oos)] == ["3", "fold1.3", "fold1.3.oos"]
    assert oos.in_sample_key == "fold1.3"
    assert [run_name(r) for r in (plain, fold, oos)] == ["trial-3", "fold1-trial-3",
                                                         "fold1-trial-3-oos"]
    tags = dict(trial_rows(oos, ("score",)).tags)
    assert tags["mmopt.fold"] == "1" and tags["mmopt.sample"] == "out_of_sample"
    assert "mmopt.fold" not in dict(trial_rows(plain, ("score",)).tags)
