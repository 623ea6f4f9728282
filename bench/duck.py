"""DuckDB over the very Parquet segments of a Saker store, and the placeholders of bench/sql/*.sql.

Each index of the store becomes a view named after it. A view reads the segments its manifest lists
and conforms them to the index's mapping as Saker's scan does (crates/store/src/table.rs): a column
that a segment lacks is null, a field the mapping marks multi-valued is a list even in segments
written while it was single-valued, and `constant_keyword` fields (never stored) are the mapping's
constant. `_index` is the index name.

Placeholders in the SQL files:
- `@FROM(pattern, …)`: the union (by name) of the views of the indices matching the patterns, as
  ES|QL's FROM reads them; patterns that match nothing are skipped, as long as one matches;
- `@WINDOW`: Kibana's time-window filter on `event.ingested`, falling back to `@timestamp`, as
  Saker's executor injects it into ES|QL rules (see esql_rules.py);
- `@NOW`: the time `NOW()` returns;
- `@CIDR(expr, "a.b.c.d/n", …)`: ES|QL's CIDR_MATCH on an `ip` column (16-byte addresses,
  IPv4 mapped into IPv6), as byte-range comparisons.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import re
from pathlib import Path

DUCK_TYPES = {
    "keyword": "VARCHAR",
    "constant_keyword": "VARCHAR",
    "match_only_text": "VARCHAR",
    "text": "VARCHAR",
    "wildcard": "VARCHAR",
    "long": "BIGINT",
    "integer": "INTEGER",
    "short": "SMALLINT",
    "byte": "TINYINT",
    "unsigned_long": "UBIGINT",
    "double": "DOUBLE",
    "float": "DOUBLE",
    "half_float": "DOUBLE",
    "scaled_float": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "TIMESTAMP",
    "date_nanos": "TIMESTAMP_NS",
    "ip": "BLOB",
    "version": "BLOB",
    "flattened": "VARCHAR",
}


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


class Store:
    """The indices of a store folder: mappings, segments and the views over them."""

    def __init__(self, root: Path):
        self.root = root
        self.indices: dict[str, dict] = {}
        base = root / "indices"
        for d in sorted(base.iterdir()):
            if not (d / "mapping.json").exists():
                continue
            mapping = json.loads((d / "mapping.json").read_text())["fields"]
            manifest_path = d / "manifest.json"
            segments = json.loads(manifest_path.read_text())["segments"] if manifest_path.exists() else []
            self.indices[d.name] = {
                "dir": d,
                "fields": mapping,
                "files": [str(d / s["path"]) for s in segments],
                "rows": sum(s["rows"] for s in segments),
            }

    def field_type(self, field: dict, multi: bool) -> str:
        t = DUCK_TYPES.get(field["type"])
        if t is None:
            raise ValueError(f"no DuckDB type for the mapping type {field['type']}")
        return t + "[]" if multi else t

    def create_views(self, con) -> None:
        for name, index in self.indices.items():
            con.execute(f"CREATE OR REPLACE VIEW {q(name)} AS {self._index_select(con, name, index)}")
        # VALUES(): distinct non-null values, multi-values flattened, null when there are none
        con.execute("CREATE OR REPLACE MACRO vals(x) AS list_distinct(list(x) FILTER (WHERE x IS NOT NULL))")
        con.execute(
            "CREATE OR REPLACE MACRO mvals(x) AS list_distinct(flatten(list(x) FILTER (WHERE x IS NOT NULL)))"
        )
        # a multi-valued field in a single-value context (comparisons, functions): null unless one value
        con.execute("CREATE OR REPLACE MACRO sv(x) AS CASE WHEN len(x) = 1 THEN x[1] END")

    def _index_select(self, con, name: str, index: dict) -> str:
        fields = index["fields"]
        if not index["files"]:
            cols = ", ".join(
                f"NULL::{self.field_type(f, bool(f.get('multi')))} AS {q(k)}" for k, f in fields.items()
            )
            return f"SELECT {cols}, {lit(name)} AS _index WHERE false"
        # group the segments by their physical schema, one read_parquet per group
        groups: dict[tuple, list[str]] = {}
        for path in index["files"]:
            schema = tuple(
                (r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({lit(path)})").fetchall()
            )
            groups.setdefault(schema, []).append(path)
        parts = []
        for schema, files in groups.items():
            physical = dict(schema)
            cols = []
            for k, f in fields.items():
                multi = bool(f.get("multi"))
                want = self.field_type(f, multi)
                if f["type"] == "constant_keyword":
                    value = f.get("value")
                    cols.append(f"{lit(value) if value is not None else 'NULL'}::VARCHAR AS {q(k)}")
                elif k not in physical:
                    cols.append(f"NULL::{want} AS {q(k)}")
                elif multi and not physical[k].endswith("[]"):
                    cols.append(f"CASE WHEN {q(k)} IS NULL THEN NULL ELSE [{q(k)}] END AS {q(k)}")
                else:
                    cols.append(q(k))
            if "_id" in physical and "_id" not in fields:
                cols.append('"_id"')
            file_list = "[" + ", ".join(lit(p) for p in files) + "]"
            parts.append(f"SELECT {', '.join(cols)}, {lit(name)} AS _index FROM read_parquet({file_list})")
        return " UNION ALL BY NAME ".join(parts)

    def source(self, patterns: list[str]) -> str:
        """`@FROM(…)`: the indices matching the patterns, one schema: a field that is multi-valued
        in any of them is a list in all."""
        names = [n for n in self.indices if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
        if not names:
            raise ValueError(f"Unknown index [{','.join(patterns)}]")
        if len(names) == 1:
            return q(names[0])
        multi: dict[str, dict] = {}
        everything: dict[str, dict] = {}
        for n in names:
            for k, f in self.indices[n]["fields"].items():
                everything.setdefault(k, f)
                if f.get("multi"):
                    multi[k] = f
        selects = []
        for n in names:
            fields = self.indices[n]["fields"]
            cols = []
            for k, f in everything.items():
                if k not in fields:
                    cols.append(f"NULL::{self.field_type(f, k in multi)} AS {q(k)}")
                elif k in multi and not fields[k].get("multi"):
                    cols.append(f"CASE WHEN {q(k)} IS NULL THEN NULL ELSE [{q(k)}] END AS {q(k)}")
                else:
                    cols.append(q(k))
            cols.append("_index")
            selects.append(f"SELECT {', '.join(cols)} FROM {q(n)}")
        return "(" + " UNION ALL BY NAME ".join(selects) + ")"


def ip16(text: str) -> bytes:
    ip = ipaddress.ip_address(text)
    if ip.version == 4:
        ip = ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + ip.packed)
    return ip.packed


def cidr_range(block: str) -> tuple[bytes, bytes]:
    net = ipaddress.ip_network(block, strict=False)
    if net.version == 4:
        net = ipaddress.IPv6Network((ip16(str(net.network_address)), 96 + net.prefixlen))
    return net.network_address.packed, net.broadcast_address.packed


def cidr_sql(expr: str, blocks: list[str]) -> str:
    terms = []
    for b in blocks:
        lo, hi = cidr_range(b)
        terms.append(f"({expr} BETWEEN from_hex('{lo.hex()}') AND from_hex('{hi.hex()}'))")
    return "(" + " OR ".join(terms) + ")"


def _split_args(text: str) -> list[str]:
    out, depth, cur, quote = [], 0, "", None
    for c in text:
        if quote:
            cur += c
            if c == quote:
                quote = None
            continue
        if c in "\"'":
            quote = c
            cur += c
        elif c == "(":
            depth += 1
            cur += c
        elif c == ")":
            depth -= 1
            cur += c
        elif c == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
    if cur.strip():
        out.append(cur.strip())
    return out


def _replace_calls(sql: str, name: str, fn) -> str:
    while True:
        m = re.search(r"@" + name + r"\(", sql)
        if not m:
            return sql
        i, depth = m.end(), 1
        while depth:
            if sql[i] == "(":
                depth += 1
            elif sql[i] == ")":
                depth -= 1
            i += 1
        args = _split_args(sql[m.end() : i - 1])
        sql = sql[: m.start()] + fn(args) + sql[i:]


def expand(sql: str, store: Store, start: str, end: str, now: str) -> str:
    """Replaces the placeholders (see the module documentation)."""

    def ts(t: str) -> str:
        return f"TIMESTAMP '{t.replace('T', ' ').rstrip('Z')}'"

    window = (
        f'(("event.ingested" >= {ts(start)} AND "event.ingested" <= {ts(end)}) OR '
        f'("event.ingested" IS NULL AND "@timestamp" >= {ts(start)} AND "@timestamp" <= {ts(end)}))'
    )
    sql = _replace_calls(sql, "FROM", lambda args: store.source(args))
    sql = _replace_calls(sql, "CIDR", lambda args: cidr_sql(args[0], [a.strip("\"'") for a in args[1:]]))
    return sql.replace("@WINDOW", window).replace("@NOW", ts(now))
