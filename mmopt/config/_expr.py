"""Linear objective expressions over metric names: ``net_pnl - lambda * cvar95``.

Grammar: terms joined by ``+`` / ``-``; a term is a product (``*``) of numbers, named constants
(such as ``lambda``) and at most one metric name. Anything else (division, powers, calls,
brackets) is rejected, so an objective is always a weighted sum of metrics and can be checked
against the known metric names before any work.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from mmopt.config._reader import fail

__all__ = ["LinearExpr", "parse_linear"]

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*]))")


@dataclass(frozen=True, slots=True)
class LinearExpr:
    """``constant + sum(weight * metric)``, with metrics in order of first appearance."""

    terms: tuple[tuple[str, float], ...]
    constant: float = 0.0

    def evaluate(self, metrics: Mapping[str, float]) -> float:
        """The value for one set of metric values (NaN in, NaN out)."""
        return self.constant + sum(w * float(metrics[m]) for m, w in self.terms)


def parse_linear(
    key: str, text: str, constants: Mapping[str, float], metrics: frozenset[str]
) -> LinearExpr:
    """Parse ``text``; errors name ``key`` and the offending token or metric."""
    tokens = _tokenize(key, text)
    weights: dict[str, float] = {}
    constant = 0.0
    pos = 0
    sign = 1.0
    while tokens[pos:pos + 1] and tokens[pos] in ("+", "-"):  # leading signs
        sign *= -1.0 if tokens[pos] == "-" else 1.0
        pos += 1
    while True:
        factor, metric, pos = _term(key, text, tokens, pos, constants, metrics)
        if metric is None:
            constant += sign * factor
        else:
            weights[metric] = weights.get(metric, 0.0) + sign * factor
        if pos == len(tokens):
            break
        if tokens[pos] not in ("+", "-"):
            raise fail(key, f"expected + or - before {tokens[pos]!r} in {text!r}")
        sign = -1.0 if tokens[pos] == "-" else 1.0
        pos += 1
    if not weights:
        raise fail(key, f"{text!r} names no metric", f"use one of: {', '.join(sorted(metrics))}")
    return LinearExpr(terms=tuple(weights.items()), constant=constant)


def _tokenize(key: str, text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if match is None or match.end() == pos:
            bad = stripped[pos:].strip()[:1]
            raise fail(
                key,
                f"unsupported {bad!r} in {text!r}",
                "write a weighted sum such as `net_pnl - lambda * cvar95` (only + - * and numbers)",
            )
        tokens.append(match.group(match.lastgroup or "op"))
        pos = match.end()
    if not tokens:
        raise fail(key, "empty expression", "e.g. expr: net_pnl - lambda * cvar95")
    return tokens


def _term(
    key: str,
    text: str,
    tokens: list[str],
    pos: int,
    constants: Mapping[str, float],
    metrics: frozenset[str],
) -> tuple[float, str | None, int]:
    factor = 1.0
    metric: str | None = None
    while True:
        if pos >= len(tokens) or tokens[pos] in ("+", "-", "*"):
            raise fail(key, f"incomplete expression {text!r}")
        token = tokens[pos]
        if token[0].isdigit() or token[0] == ".":
            factor *= float(token)
        elif token in constants:
            factor *= constants[token]
        elif token in metrics:
            if metric is not None:
                raise fail(key, f"{metric} * {token} in {text!r} is not linear")
            metric = token
        else:
            raise fail(
                key,
                f"unknown metric {token!r} in {text!r}",
                f"use one of: {', '.join(sorted(metrics))}"
                + (f"; constants: {', '.join(sorted(constants))}" if constants else ""),
            )
        pos += 1
        if pos < len(tokens) and tokens[pos] == "*":
            pos += 1
            continue
        return factor, metric, pos
