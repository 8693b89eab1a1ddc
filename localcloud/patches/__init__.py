"""Monkeypatches of moto (written against moto 5.2.5), applied once at endpoint start.

Each module's docstring names the gap it fills. Only gaps hit by Terraform or the pipeline are filled.
"""

from __future__ import annotations

import importlib

MODULES = (
    "lambda_", "lambda_logging", "s3", "s3_copy_conditions", "s3_events", "s3_policy", "s3_logging", "stepfunctions", "glue",
    "glue_views", "glue_lf", "athena", "s3tables", "sqs", "lakeformation", "sts", "iam_enforce",
)

_applied = False


def apply_all() -> None:
    global _applied
    if _applied:
        return
    import moto

    if moto.__version__ != "5.2.5":
        raise RuntimeError(f"localcloud patches are written against moto 5.2.5, found {moto.__version__}")
    for name in MODULES:
        try:
            mod = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue
            raise
        mod.apply()
    _applied = True
