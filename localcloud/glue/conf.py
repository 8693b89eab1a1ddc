"""Glue's single ``--conf`` argument: parse it and re-point AWS-backed Iceberg catalogs at local ones.

Terraform packs several Spark settings into the one ``--conf`` default argument Glue accepts:
``k=v --conf k=v --conf k=v`` (docs/design.md). Catalogs backed by the AWS Glue Data Catalog or
S3 Tables cannot work locally (no AWS SDK bundle, no S3), so each becomes an Iceberg JDBC catalog on
SQLite under the runner's state dir; Iceberg tables the run writes are then registered in the
endpoint's Glue Data Catalog by localcloud.glue.catalog_sync.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GLUE_CATALOG_IMPL = "org.apache.iceberg.aws.glue.GlueCatalog"
S3TABLES_CATALOG_IMPL = "software.amazon.s3tables.iceberg.S3TablesCatalog"
AWS_IO_IMPLS = {"org.apache.iceberg.aws.s3.S3FileIO", "software.amazon.s3tables.iceberg.S3TablesFileIO"}
CATALOG_PREFIX = "spark.sql.catalog."

# Catalog options that keep their meaning on a local JDBC catalog; every other option of a
# re-pointed catalog (warehouse, io-impl, glue.*, s3.*, client.*, lock.*, http-client.*) is AWS-only.
KEPT_CATALOG_OPTIONS = ("default-namespace", "cache-enabled", "cache.expiration-interval-ms")
KEPT_CATALOG_OPTION_PREFIXES = ("table-default.", "table-override.", "view-default.", "view-override.")

# Settings that exist only on Glue's cluster (cluster sizing, Glue's Hive metastore client) or that
# would break the local session; dropped with a note in the run's log.
DROPPED_KEYS = {
    "spark.master",
    "spark.submit.deployMode",
    "spark.driver.memory",
    "spark.driver.cores",
    "spark.sql.catalogImplementation",
    "spark.hadoop.hive.metastore.client.factory.class",
    "spark.hadoop.aws.glue.catalog.separator",
}
DROPPED_PREFIXES = ("spark.executor.", "spark.dynamicAllocation.", "spark.hadoop.fs.s3.", "spark.hadoop.fs.s3a.",
                    "spark.hadoop.fs.s3n.", "spark.glue.", "spark.hadoop.aws.")


@dataclass
class CatalogRepoint:
    name: str
    kind: str  # "glue" or "s3tables"
    original: dict[str, str]  # the catalog's options as given (for the log)
    kept: dict[str, str]  # options carried over to the local catalog


@dataclass
class ParsedConf:
    spark_conf: dict[str, str] = field(default_factory=dict)  # what the local session gets
    catalogs: list[CatalogRepoint] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)


def parse_conf_argument(value: str | None) -> dict[str, str]:
    """``"k=v --conf k=v ..."`` -> ordered dict (a later duplicate wins, as with spark-submit)."""
    if not value or not value.strip():
        return {}
    text = value.strip()
    text = text.removeprefix("--conf ")
    conf: dict[str, str] = {}
    for part in text.split(" --conf "):
        part = part.strip()
        if not part:
            continue
        key, sep, val = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--conf entry {part!r} is not key=value")
        conf[key.strip()] = val.strip()
    return conf


def _catalog_kind(options: dict[str, str]) -> str | None:
    impl = options.get("catalog-impl", "")
    ctype = options.get("type", "").lower()
    uri = options.get("uri", "")
    if impl == S3TABLES_CATALOG_IMPL or (ctype == "rest" and "s3tables" in uri and "amazonaws.com" in uri):
        return "s3tables"
    if impl == GLUE_CATALOG_IMPL or ctype == "glue" or (ctype == "rest" and "glue" in uri and "amazonaws.com" in uri):
        return "glue"
    if options.get("io-impl") in AWS_IO_IMPLS:
        return "glue"  # an Iceberg catalog writing through S3FileIO: only the Glue flavour exists here
    return None


def repoint(conf: dict[str, str]) -> ParsedConf:
    """Split a job's Spark conf into local settings and the catalogs to re-point."""
    out = ParsedConf()
    catalog_names = {k[len(CATALOG_PREFIX):] for k in conf
                     if k.startswith(CATALOG_PREFIX) and "." not in k[len(CATALOG_PREFIX):]}
    repointed: set[str] = set()
    for name in sorted(catalog_names):
        prefix = f"{CATALOG_PREFIX}{name}."
        options = {k[len(prefix):]: v for k, v in conf.items() if k.startswith(prefix)}
        kind = _catalog_kind(options)
        if kind is None:
            continue
        kept = {k: v for k, v in options.items()
                if k in KEPT_CATALOG_OPTIONS or k.startswith(KEPT_CATALOG_OPTION_PREFIXES)}
        out.catalogs.append(CatalogRepoint(name=name, kind=kind, original=options, kept=kept))
        repointed.add(name)
    for key, val in conf.items():
        if key.startswith(CATALOG_PREFIX):
            rest = key[len(CATALOG_PREFIX):]
            name, _, option = rest.partition(".")
            if name in repointed:
                if option and (option in KEPT_CATALOG_OPTIONS or option.startswith(KEPT_CATALOG_OPTION_PREFIXES)):
                    out.spark_conf[key] = val
                elif option:
                    out.dropped[key] = val
                continue  # the catalog class itself is set by the local catalog conf
        if key in DROPPED_KEYS or key.startswith(DROPPED_PREFIXES):
            out.dropped[key] = val
            continue
        out.spark_conf[key] = val
    return out
