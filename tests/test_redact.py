"""``mask_secrets``: no password of a URL survives, whatever text carries it."""

from __future__ import annotations

import logging
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmopt.redact import has_secret, install_masking, mask_secrets

CASES = [
    ("postgresql://alice:S3cretPW@db:5432/optuna", "postgresql://alice:***@db:5432/optuna"),
    ("postgresql+psycopg2://alice:S3cretPW@db/optuna", "postgresql+psycopg2://alice:***@db/optuna"),
    ("redis://:S3cretPW@cache:6379/0", "redis://:***@cache:6379/0"),
    ("http://bob:S3cretPW@mlflow:5000", "http://bob:***@mlflow:5000"),
    ("postgresql://db/optuna?user=a&password=S3cretPW&sslmode=require",
     "postgresql://db/optuna?user=a&password=***&sslmode=require"),
    ("cannot open 'postgresql://alice:p@ss/w@db/o': refused",
     "cannot open 'postgresql://alice:***@db/o': refused"),
    ("host=db user=alice password=S3cretPW", "host=db user=alice password=***"),
]
UNCHANGED = ["sqlite:////srv/runs/optuna.db", "journal:///runs/optuna.log", "ray://head:10001",
             "postgresql://alice@db/optuna", "mail me at a@b.com", "http://127.0.0.1:5000/health",
             "executor.address=10.0.0.1:6379"]


@pytest.mark.parametrize(("text", "masked"), CASES)
def test_passwords_are_masked(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked
    assert has_secret(text) and not has_secret(masked)
    assert mask_secrets(masked) == masked  # idempotent


@pytest.mark.parametrize("text", UNCHANGED)
def test_text_without_a_password_is_unchanged(text: str) -> None:
    assert mask_secrets(text) == text and not has_secret(text)


_PASSWORD = st.text(st.characters(codec="ascii", categories=("L", "N"),
                                  include_characters="!$%^*()-_+~.,@/"), min_size=4,
                    max_size=24).filter(lambda p: p.strip("@/") == p and "//" not in p)


@given(user=st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True), password=_PASSWORD,
       host=st.from_regex(r"[a-z][a-z0-9.\-]{0,15}", fullmatch=True),
       scheme=st.sampled_from(["postgresql", "mysql+pymysql", "redis", "https"]),
       before=st.sampled_from(["", "storage: ", "'", "error: cannot open "]),
       after=st.sampled_from(["", "/optuna", ":5432/db", "' failed", "/db?sslmode=require x"]))
def test_no_password_survives_in_any_url_in_any_text(
    user: str, password: str, host: str, scheme: str, before: str, after: str
) -> None:
    text = f"{before}{scheme}://{user}:{password}@{host}{after}"
    masked = mask_secrets(text)
    assert f":{password}@" not in masked
    assert f"{scheme}://{user}:***@{host}" in masked
    query = f"{before}{scheme}://{host}{after.split('?')[0]}?password={password}&x=1"
    assert f"password={password}" not in mask_secrets(query)


def test_installed_masking_covers_log_records_and_warnings(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mmopt.redact

    install_masking()
    with caplog.at_level(logging.WARNING):
        logging.getLogger("some.library").warning("connect %s failed",
                                                  "postgresql://a:S3cretPW@db/x")
    assert "S3cretPW" not in caplog.text and "a:***@db" in caplog.text
    shown: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda m, *a, **k: shown.append(str(m))  # type: ignore[assignment]
        monkeypatch.setattr(mmopt.redact, "_installed", False)
        install_masking()  # wraps the showwarning above
        warnings.warn("redis://:S3cretPW@cache:6379/0 unreachable", UserWarning, stacklevel=1)
    assert shown == ["redis://:***@cache:6379/0 unreachable"]
