"""Safe, deterministic names for views, view columns and Step Functions executions.

Rules (see lakepipe/README.md):
- A slug is lowercase `[a-z0-9_]`: accents are folded (NFKD), every other run of
  characters becomes one `_`, leading/trailing `_` are dropped.
- A name gets `_<8 hex of sha256(value)>` when it was shortened, when its slug is empty,
  or when two values (or a value and a reserved name) would end up with the same name.
  Inside a colliding group, a declared value (one an analyst group names, so Terraform
  grants the plain name) keeps the plain name; without one, the one value whose slug *is*
  the value (already a safe name, e.g. `abc` next to `ABC`) keeps it, so names don't change
  for well-behaved values. A declared value holds its plain name even before it is in the
  data. The result depends only on the sets of values, never on order.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

HASH_LEN = 8
MAX_VIEW_NAME = 128  # Glue allows 255; Athena/Hive tooling is happier with shorter names
MAX_COLUMN_NAME = 64
EXECUTION_NAME_MAX = 80  # Step Functions limit
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def short_hash(value: str, length: int = HASH_LEN) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def slugify(value: str) -> str:
    folded = unicodedata.normalize("NFKD", value)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    return _NON_SLUG.sub("_", folded).strip("_")


def _candidate(value: str, prefix: str, max_len: int, leading_digit_prefix: str) -> tuple[str, bool]:
    """(name without hash, needs_hash) for one value."""
    slug = slugify(value)
    if slug and slug[0].isdigit() and not prefix:
        slug = leading_digit_prefix + slug
    room = max_len - len(prefix)
    needs_hash = not slug
    if len(slug) > room:
        needs_hash = True
    if needs_hash:
        slug = slug[: max(room - HASH_LEN - 1, 0)].rstrip("_")
    return prefix + slug, needs_hash


def _with_hash(base: str, value: str, length: int, max_len: int) -> str:
    h = short_hash(value, length)
    if base.endswith("_") or not base:
        name = base + h
    else:
        name = f"{base}_{h}"
    if len(name) > max_len:  # longer hash after a collision: trim the readable part
        keep = max_len - len(h) - 1
        name = f"{base[:keep].rstrip('_')}_{h}"
    return name


def assign_names(
    values: Iterable[str],
    *,
    prefix: str = "",
    max_len: int,
    reserved: Iterable[str] = (),
    declared: Iterable[str] = (),
    leading_digit_prefix: str = "c_",
) -> dict[str, str]:
    """Map each distinct value to a unique safe name (unique case-insensitively: all lowercase).

    `reserved` names are taken already (e.g. the split and id columns of a view). `declared` values own
    their plain name in a collision, whether or not they are among `values`.
    """
    wanted = set(values)
    declared_set = set(declared)
    values = sorted(wanted | declared_set)
    reserved_set = {r.lower() for r in reserved}
    plain: dict[str, tuple[str, bool]] = {
        v: _candidate(v, prefix, max_len, leading_digit_prefix) for v in values
    }
    groups: dict[str, list[str]] = {}
    for v, (base, needs_hash) in plain.items():
        if not needs_hash:
            groups.setdefault(base, []).append(v)

    names: dict[str, str] = {}
    hashed: list[str] = [v for v, (_, nh) in plain.items() if nh]
    for base, members in groups.items():
        if base in reserved_set:
            hashed.extend(members)
            continue
        if len(members) == 1:
            names[members[0]] = base
            continue
        # A declared member keeps it; else the member that is already exactly its own name (at most one
        # can be). Two declared members (lakepipe.spec refuses that) leave no owner.
        owner = [m for m in members if m in declared_set] or [m for m in members if prefix + m == base]
        if len(owner) == 1:
            names[owner[0]] = base
            hashed.extend(m for m in members if m != owner[0])
        else:
            hashed.extend(members)

    taken = set(names.values()) | reserved_set
    for v in sorted(hashed):
        base = plain[v][0]
        length = HASH_LEN
        name = _with_hash(base, v, length, max_len)
        while name in taken:  # only on a (deliberate) hash-prefix clash: lengthen the hash
            length += 4
            if length > 64:
                raise ValueError(f"cannot find a unique name for {v!r}")
            name = _with_hash(base, v, length, max_len)
        names[v] = name
        taken.add(name)
    return {v: n for v, n in names.items() if v in wanted}


def view_names(split_values: Iterable[str], view_prefix: str, declared: Iterable[str] = ()) -> dict[str, str]:
    """`declared`: the split values of the dataset's analyst groups (Terraform grants their plain names)."""
    return assign_names(split_values, prefix=view_prefix, max_len=MAX_VIEW_NAME, declared=declared)


def column_names(keys: Iterable[str], reserved_columns: Iterable[str]) -> dict[str, str]:
    """Key -> view column name; `reserved_columns` are the split and id columns."""
    return assign_names(keys, max_len=MAX_COLUMN_NAME, reserved=reserved_columns, leading_digit_prefix="k_")


def execution_name(dataset: str, bucket: str, key: str, version: str) -> str:
    """`<dataset>-<40 hex of sha256(bucket NUL key NUL version)>` (docs/design.md).

    Step Functions caps names at 80 characters; the schema caps dataset names at 39 so the
    name always fits.
    """
    digest = hashlib.sha256(f"{bucket}\0{key}\0{version}".encode()).hexdigest()[:40]
    name = f"{dataset}-{digest}"
    if len(name) > EXECUTION_NAME_MAX:
        raise ValueError(f"dataset name {dataset!r} is longer than the schema allows (39 characters)")
    return name
