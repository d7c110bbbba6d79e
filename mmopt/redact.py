"""``mask_secrets``: passwords out of every URL in a piece of text, before anyone sees it.

One helper for every message, log line, progress line, printed command and MLflow field that
may carry a storage URL or a tracking URI::

    postgresql://alice:S3cretPW@db:5432/optuna      -> postgresql://alice:***@db:5432/optuna
    redis://:S3cretPW@cache:6379/0                  -> redis://:***@cache:6379/0
    postgresql://db/optuna?user=a&password=S3cret   -> postgresql://db/optuna?user=a&password=***

It works on whole texts (an exception message, a YAML dump, a command line), not only on a
bare URL: every ``scheme://user:password@`` and every ``password=`` / ``passwd=`` / ``pwd=``
parameter is masked wherever it occurs. A user name alone (``scheme://user@host``) is kept.
"""

from __future__ import annotations

import logging
import re
import warnings
from typing import Any, TextIO

__all__ = ["MASK", "has_secret", "install_masking", "mask_secrets"]

MASK = "***"

# scheme://user:password@host: the password runs to the last '@' that is followed by a host
# (so an unencoded '@' or '/' in a password is masked too; over-masking beats a leak)
_USERINFO = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*:)(?P<secret>[^\s'\"]*)"
    r"(?=@[^\s@/'\"?#]*(?:[/?#\s'\",;)\]]|$))"
)
# password=... / passwd=... / pwd=... in a query string or a libpq-style key=value list
_PARAM = re.compile(
    r"(?P<head>(?<![A-Za-z0-9_])(?:password|passwd|pwd)=['\"]?)(?P<secret>[^&;\s'\"]+)",
    re.IGNORECASE,
)


def mask_secrets(text: object) -> str:
    """``text`` (any object, as ``str``) with every URL password replaced by ``***``."""
    if text is None:
        return ""
    out = _USERINFO.sub(lambda m: m.group("head") + (MASK if m.group("secret") else ""),
                        str(text))
    return _PARAM.sub(lambda m: m.group("head") + MASK, out)


def has_secret(text: object) -> bool:
    """True if ``mask_secrets`` would change ``text`` (it carries a password)."""
    return text is not None and mask_secrets(text) != str(text)


_installed = False


def install_masking() -> None:
    """Mask every log record and warning this process emits from now on (idempotent).

    The CLI calls it first thing, so that a library's log line or warning that quotes a URL
    (SQLAlchemy, MLflow, Ray, Optuna) cannot print a password either.
    """
    global _installed
    if _installed:
        return
    _installed = True
    make_record = logging.getLogRecordFactory()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error handling
            return record
        if has_secret(message):
            record.msg, record.args = mask_secrets(message), None
        return record

    logging.setLogRecordFactory(masked_record)
    show = warnings.showwarning

    def masked_warning(message: Warning | str, category: type[Warning], filename: str,
                       lineno: int, file: TextIO | None = None, line: str | None = None) -> None:
        show(mask_secrets(message), category, filename, lineno, file, line)

    warnings.showwarning = masked_warning
