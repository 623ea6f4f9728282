"""Results of both engines in one canonical form, so bench/run.py can check they agree.

A cell becomes: None; an epoch-millisecond int for dates; an address's text for IPs; a sorted tuple
for multi-values (ES|QL's VALUES has no order, and one value is a plain value, none is null); a
rounded float for numbers. Rows are compared as multisets, by column position.
"""

from __future__ import annotations

import datetime as dt
import ipaddress


def _ip_text(b: bytes) -> str:
    ip = ipaddress.IPv6Address(b)
    return str(ip.ipv4_mapped) if ip.ipv4_mapped else str(ip)


def _scalar(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, (bytes, bytearray)):
        return _ip_text(bytes(v)) if len(v) == 16 else v.hex()
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=dt.timezone.utc)
        return int(v.timestamp() * 1000)
    if isinstance(v, float):
        return float(f"{v:.9g}")
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        return v
    return str(v)


def _cell(v):
    if isinstance(v, (list, tuple)):
        items = sorted({_scalar(x) for x in v if x is not None}, key=repr)
        if not items:
            return None
        return items[0] if len(items) == 1 else tuple(items)
    return _scalar(v)


def duck_rows(rows: list[tuple]) -> list[tuple]:
    return sorted((tuple(_cell(c) for c in row) for row in rows), key=repr)


def _saker_scalar(v, es_type: str):
    if v is None:
        return None
    if es_type == "ip":
        return str(ipaddress.ip_address(v))
    if es_type in ("date", "date_nanos"):
        return int(dt.datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp() * 1000)
    return _scalar(v)


def saker_rows(result: dict) -> list[tuple]:
    types = [c["type"] for c in result["columns"]]
    out = []
    for row in result["values"]:
        cells = []
        for v, t in zip(row, types):
            if isinstance(v, list):
                cells.append(_cell([_saker_scalar(x, t) for x in v]))
            else:
                cells.append(_cell(_saker_scalar(v, t)))
        out.append(tuple(cells))
    return sorted(out, key=repr)


def diff(a: list[tuple], b: list[tuple], limit: int = 3) -> str | None:
    """None when the multisets agree, else a short description of the first differences."""
    if a == b:
        return None
    sa, sb = {repr(r) for r in a}, {repr(r) for r in b}
    only_a = sorted(sa - sb)[:limit]
    only_b = sorted(sb - sa)[:limit]
    return f"{len(a)} vs {len(b)} rows; only Saker: {only_a}; only DuckDB: {only_b}"
