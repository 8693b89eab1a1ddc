"""Pure validation rules of the ingest job (no Spark here, so they are unit-tested).

Header: names are matched case-insensitively after trimming and stripping a UTF-8 BOM, a spec's
`rename` map turning known aliases into dataset columns first; a missing required column fails the
whole file before anything is loaded; two headers that normalise to the same required name are
ambiguous and fail too. Extra columns are reported; with `keep_extra_columns` they are loaded too,
under safe names (lakepipe.naming: file headers are data).
Rows: see REASONS; the Spark job implements them as column expressions in ingest.py.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

from lakepipe.naming import column_names
from lakepipe.spec import RESERVED_COLUMNS, DatasetSpec

BOM = "\ufeff"

# Reject reasons, in the order they are checked (a row gets the first that applies).
REASONS = {
    "unparseable": "the line is not valid UTF-8 text",
    "wrong_field_count": "the line does not have the header's number of fields",
    "empty_split_value": "the split column is empty",
    "empty_key": "the key column is empty",
    "duplicate_key": "a later line in the file has the same natural key with a different value",
    "duplicate_row": "a later line in the file repeats this natural key with the same value",
}


class HeaderError(ValueError):
    """The file's header cannot be used; nothing is loaded."""


def normalise_header_name(name: str) -> str:
    return name.replace(BOM, "").strip().lower()


def parse_header_line(line: str) -> list[str]:
    """The header line's fields (CSV-quoted names allowed), BOM and a trailing CR removed."""
    line = line.lstrip(BOM).rstrip("\r\n")
    rows = list(csv.reader([line]))
    return rows[0] if rows else []


@dataclass(frozen=True)
class HeaderLayout:
    """Which CSV position holds which dataset column."""

    field_count: int
    positions: dict[str, int]  # dataset column -> 0-based position in the file
    ignored: tuple[str, ...]  # header names not used by the dataset
    extra: tuple[str, ...] = ()  # header names not in the dataset (after `rename`), kept or not
    kept: dict[str, int] = field(default_factory=dict)  # keep_extra_columns: table column -> position

    def positional_names(self) -> list[str]:
        """One name per CSV field: the dataset (or kept extra) column it holds, or a placeholder."""
        by_pos = {p: c for c, p in {**self.positions, **self.kept}.items()}
        return [by_pos.get(i, f"_ignored_{i}") for i in range(self.field_count)]


def match_header(header_fields: list[str], spec: DatasetSpec, source: str) -> HeaderLayout:
    if not header_fields or all(not f.strip() for f in header_fields):
        raise HeaderError(f"{source}: the file has no header line (empty file?)")
    aliases = {normalise_header_name(a): c for a, c in spec.rename.items()}
    normalised = [aliases.get(n, n) for n in (normalise_header_name(f) for f in header_fields)]
    required = spec.data_columns
    positions: dict[str, int] = {}
    ambiguous: list[str] = []
    for i, name in enumerate(normalised):
        if name in required:
            if name in positions:
                ambiguous.append(name)
            positions[name] = i
    missing = [c for c in required if c not in positions]
    problems = []
    if missing:
        problems.append(f"missing required column(s) {missing}")
    if ambiguous:
        problems.append(f"column(s) {sorted(set(ambiguous))} appear more than once (case-insensitively)")
    if problems:
        raise HeaderError(
            f"{source}: " + "; ".join(problems) + f"; header was {header_fields!r}; nothing was loaded"
        )
    extra = [i for i, n in enumerate(normalised) if n not in required and n]
    kept: dict[str, int] = {}
    if spec.keep_extra_columns:
        names = column_names({normalised[i] for i in extra}, (*required, *RESERVED_COLUMNS))
        for i in extra:  # two extra headers with one name: the first is kept, the other ignored
            kept.setdefault(names[normalised[i]], i)
    ignored = tuple(header_fields[i] for i, n in enumerate(normalised) if n not in required and i not in kept.values())
    return HeaderLayout(field_count=len(header_fields), positions=positions, ignored=ignored,
                        extra=tuple(header_fields[i] for i in extra), kept=kept)


def is_blank(value: str | None) -> bool:
    """Split and key values must have a visible character."""
    return value is None or value.strip() == ""


def line_numbers(partition_counts: list[tuple[int, int, int]]) -> dict[int, int]:
    """Partition id -> number of physical lines before it in the file.

    `partition_counts` holds (partition id, first byte offset of its block, lines in it);
    Spark reads a single file's blocks into one partition each, ordered here by offset.
    """
    offsets: dict[int, int] = {}
    running = 0
    for pid, _start, n in sorted(partition_counts, key=lambda t: (t[1], t[0])):
        offsets[pid] = running
        running += n
    return offsets
