"""Detection rules as Saker's ES|QL executor runs them: the rule's query with Kibana's time-window
filter injected right after FROM, and `LIMIT max_signals + 1` appended (crates/detect/src/exec/esql.rs).

Only the standard library: bench/run.py imports it before the venv exists.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Rule:
    path: Path
    name: str
    query: str
    window: str  # the rule's `from`, e.g. "now-60m"
    timestamp_override: str | None
    fallback_disabled: bool
    max_signals: int


def load_rule(path: Path) -> Rule:
    data = tomllib.loads(path.read_text())
    rule = data["rule"]
    if rule.get("language") != "esql" and rule.get("type") != "esql":
        raise ValueError(f"{path}: not an ES|QL rule")
    return Rule(
        path=path,
        name=rule["name"],
        query=rule["query"],
        window=rule.get("from", "now-6m"),
        timestamp_override=rule.get("timestamp_override") or None,
        fallback_disabled=bool(rule.get("timestamp_override_fallback_disabled", False)),
        max_signals=int(rule.get("max_signals", 100)),
    )


def end_of_from(query: str) -> int:
    """Offset just past the first command (FROM …), before any comment that follows it: where the
    executor inserts the filter."""
    i, n = 0, len(query)
    last = 0  # just past the last character of the command seen so far
    while i < n:
        c = query[i]
        if query.startswith("//", i):
            j = query.find("\n", i)
            i = n if j < 0 else j
            continue
        if query.startswith("/*", i):
            j = query.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if query.startswith('"""', i):
            j = query.find('"""', i + 3)
            i = n if j < 0 else j + 3
            last = i
            continue
        if c == '"':
            i += 1
            while i < n and query[i] != '"':
                i += 2 if query[i] == "\\" else 1
            i += 1
            last = i
            continue
        if c == "|":
            return last
        if not c.isspace():
            last = i + 1
        i += 1
    return last


def time_filter(rule: Rule, start: str, end: str, fields: set[str] | None = None) -> str:
    """Kibana's range filter on the primary timestamp (the override, else @timestamp), with the
    @timestamp fallback for documents that lack the override, as `exec::time_filter` writes it."""

    def rng(f: str) -> str:
        return f'({f} >= TO_DATETIME("{start}") AND {f} <= TO_DATETIME("{end}"))'

    primary = rule.timestamp_override or "@timestamp"
    secondary = "@timestamp" if primary != "@timestamp" and not rule.fallback_disabled else None
    if secondary:
        return f"({rng(primary)} OR ({primary} IS NULL AND {rng(secondary)}))"
    return rng(primary)


def executor_query(rule: Rule, start: str, end: str, limit: int | None = None) -> str:
    """The query text Saker's executor runs for the window [start, end] (RFC 3339 strings); `limit`
    replaces the executor's `max_signals + 1`."""
    q = rule.query.strip()
    at = end_of_from(q)
    head, tail = q[:at], q[at:]
    return f"{head}\n| WHERE {time_filter(rule, start, end)}\n{tail}\n| LIMIT {limit or rule.max_signals + 1}\n"
