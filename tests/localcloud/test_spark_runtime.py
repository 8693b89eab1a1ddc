"""The local Spark + Iceberg runtime: JDBC/SQLite catalogs with tables, MERGE and views."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from localcloud import class_archive, spark_runtime

pytestmark = [pytest.mark.spark, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    try:
        spark_runtime.jars()
    except spark_runtime.SparkRuntimeError as e:
        pytest.fail(str(e))
    base = tmp_path_factory.mktemp("lake")
    catalogs = {"lake": str(base / "lake"), "other": str(base / "other")}
    spark = spark_runtime.local_spark_session("test-spark-runtime", catalogs)
    yield spark, catalogs
    spark.stop()


def test_build_is_idempotent_and_lists_jars():
    rdir = spark_runtime.runtime_dir()
    stamp_before = (rdir / spark_runtime.STAMP).stat().st_mtime_ns
    assert spark_runtime.build() == rdir
    assert (rdir / spark_runtime.STAMP).stat().st_mtime_ns == stamp_before, "an up-to-date build must not rebuild"
    names = [j.name for j in spark_runtime.jars()]
    assert names[0].startswith("iceberg-spark-runtime-3.5_2.12-")
    assert all(j.exists() for j in spark_runtime.jars())


def test_the_jvm_maps_the_runtimes_class_archive(lake):
    """`make spark-runtime` trained a class archive for this JDK and these jars (localcloud/class_archive.py), and
    the session's JVM maps it: Spark's and Iceberg's classes are not parsed again at each JVM start."""
    spark, _ = lake
    archive = class_archive.path(spark_runtime.runtime_dir(), spark_runtime.java(), spark_runtime.classpath())
    assert archive.is_file(), f"no class archive for this JDK and these jars: {archive}"
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    maps = [line.split(maxsplit=5) for line in Path(f"/proc/{pid}/maps").read_text().splitlines()]
    mapped = {fields[5] for fields in maps if len(fields) == 6}  # address perms offset dev inode path
    assert str(archive) in mapped, f"the JVM (pid {pid}) did not map {archive}"


def test_session_settings(lake):
    spark, catalogs = lake
    conf = spark.sparkContext.getConf()
    assert conf.get("spark.master") == "local[2]"
    assert conf.get("spark.ui.enabled") == "false"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "4"
    assert "IcebergSparkSessionExtensions" in spark.conf.get("spark.sql.extensions")
    assert spark.conf.get("spark.sql.catalog.lake.type") == "jdbc"
    assert spark.conf.get("spark.sql.catalog.lake.uri") == \
        f"jdbc:localcloud-sqlite:{Path(catalogs['lake']).resolve()}/catalog.db"
    assert spark.conf.get("spark.sql.catalog.lake.jdbc.journal_mode") == "WAL"
    assert spark.conf.get("spark.sql.catalog.lake.jdbc.transaction_mode") == "IMMEDIATE"


def test_a_write_on_a_stale_sqlite_snapshot_is_a_retryable_serialization_failure(lake, tmp_path):
    """Two connections to one catalog file (two drivers): one keeps a read snapshot, the other writes; the
    first one's write then fails in SQLite (SQLITE_BUSY_SNAPSHOT). The catalogs' driver reports it as SQLSTATE
    40001, which Iceberg's JdbcClientPool retries on a fresh connection instead of failing the commit."""
    spark, _ = lake
    jvm = spark.sparkContext._jvm
    url = f"jdbc:localcloud-sqlite:{tmp_path / 'race.db'}"
    props = jvm.java.util.Properties()
    props.setProperty("journal_mode", "WAL")
    setup = jvm.java.sql.DriverManager.getConnection(url, props)
    setup.createStatement().executeUpdate("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)")
    setup.createStatement().executeUpdate("INSERT INTO t VALUES ('a', '0')")
    reader, writer = (jvm.java.sql.DriverManager.getConnection(url, props) for _ in range(2))
    reader.setAutoCommit(False)
    reader.createStatement().executeQuery("SELECT v FROM t")  # the reader's transaction reads: its snapshot
    writer.createStatement().executeUpdate("UPDATE t SET v = '1' WHERE k = 'a'")
    with pytest.raises(Exception) as failure:
        reader.createStatement().executeUpdate("UPDATE t SET v = '2' WHERE k = 'a' AND v = '0'")
    java = failure.value.java_exception
    assert java.getSQLState() == "40001" and "SQLITE_BUSY" in java.getMessage()
    reader.rollback()

    # Outside a transaction nothing pins a snapshot: the driver reads result sets whole and closes them (an
    # open one would keep the pooled connection on an old catalog), so a later compare-and-swap sees the
    # other connection's write and decides.
    reader.setAutoCommit(True)
    reader.createStatement().executeQuery("SELECT v FROM t")
    writer.createStatement().executeUpdate("UPDATE t SET v = '3' WHERE k = 'a'")
    cas = reader.prepareStatement("UPDATE t SET v = ? WHERE k = 'a' AND v = ?")
    cas.setString(1, "4")
    cas.setString(2, "3")
    assert cas.executeUpdate() == 1
    assert setup.createStatement().executeUpdate("UPDATE t SET v = v WHERE k = 'a' AND v = '4'") == 1
    for c in (reader, writer, setup):
        c.close()


def test_partitioned_table_append_merge_read_back(lake):
    spark, catalogs = lake
    spark.sql("CREATE NAMESPACE IF NOT EXISTS lake.db")
    spark.sql("""CREATE TABLE lake.db.entities (id BIGINT, region STRING, name STRING, amount DECIMAL(10,2))
                 USING iceberg PARTITIONED BY (region)""")
    spark.createDataFrame(
        [(1, "eu", "a", 1.5), (2, "us", "b", 2.0), (3, "eu", "c", 3.25)],
        "id BIGINT, region STRING, name STRING, amount DOUBLE",
    ).selectExpr("id", "region", "name", "CAST(amount AS DECIMAL(10,2)) AS amount").writeTo("lake.db.entities").append()

    spark.createDataFrame([(2, "us", "B", 20.0), (4, "apac", "d", 4.0)],
                          "id BIGINT, region STRING, name STRING, amount DOUBLE").createOrReplaceTempView("updates")
    spark.sql("""MERGE INTO lake.db.entities t
                 USING (SELECT id, region, name, CAST(amount AS DECIMAL(10,2)) AS amount FROM updates) s
                 ON t.id = s.id
                 WHEN MATCHED THEN UPDATE SET *
                 WHEN NOT MATCHED THEN INSERT *""")

    rows = [tuple(r) for r in spark.sql(
        "SELECT id, region, name, CAST(amount AS STRING) FROM lake.db.entities ORDER BY id").collect()]
    assert rows == [(1, "eu", "a", "1.50"), (2, "us", "B", "20.00"), (3, "eu", "c", "3.25"), (4, "apac", "d", "4.00")]

    partitions = sorted(r[0] for r in spark.sql("SELECT partition.region FROM lake.db.entities.partitions").collect())
    assert partitions == ["apac", "eu", "us"]
    operations = [r[0] for r in spark.sql(
        "SELECT operation FROM lake.db.entities.snapshots ORDER BY committed_at").collect()]
    assert operations[0] == "append" and len(operations) == 2  # the MERGE is one more commit
    first = spark.sql("SELECT snapshot_id FROM lake.db.entities.snapshots ORDER BY committed_at LIMIT 1").first()[0]
    assert spark.sql(f"SELECT count(*) FROM lake.db.entities VERSION AS OF {first}").first()[0] == 3

    # The data and the metadata are files under the catalog's warehouse; the catalog is the SQLite file.
    warehouse = Path(catalogs["lake"]) / "warehouse" / "db" / "entities"
    assert list(warehouse.glob("data/region=eu/*.parquet"))
    assert list(warehouse.glob("metadata/*.metadata.json"))
    assert (Path(catalogs["lake"]) / "catalog.db").stat().st_size > 0


def test_catalogs_are_separate(lake):
    spark, _ = lake
    spark.sql("CREATE NAMESPACE IF NOT EXISTS other.db")
    spark.sql("CREATE TABLE other.db.t (x INT) USING iceberg")
    assert [r.tableName for r in spark.sql("SHOW TABLES IN other.db").collect()] == ["t"]
    assert "t" not in [r.tableName for r in spark.sql("SHOW TABLES IN lake.db").collect()]


def test_iceberg_view_with_spark_and_trino_representations(lake):
    spark, catalogs = lake
    spark.sql("CREATE NAMESPACE IF NOT EXISTS lake.db")
    spark.sql("CREATE TABLE IF NOT EXISTS lake.db.v_base (id BIGINT, kind STRING) USING iceberg")
    spark.sql("INSERT INTO lake.db.v_base VALUES (1, 'x'), (2, 'y'), (3, 'x')")
    spark.sql("CREATE OR REPLACE VIEW lake.db.v_x AS SELECT id FROM lake.db.v_base WHERE kind = 'x'")

    # Add a trino representation through Iceberg's view API (Spark SQL only writes its own dialect).
    jvm = spark.sparkContext._jvm
    # A second JdbcCatalog instance on the same SQLite file, like another engine would open it
    # (SparkCatalog's own instance is wrapped in a CachingCatalog, which is no ViewCatalog).
    props = jvm.java.util.HashMap()
    for key in ("type", "uri", "jdbc.schema-version", "warehouse"):
        props.put(key, spark.conf.get(f"spark.sql.catalog.lake.{key}"))
    catalog = jvm.org.apache.iceberg.CatalogUtil.buildIcebergCatalog(
        "lake", props, spark.sparkContext._jsc.hadoopConfiguration())
    ident = jvm.org.apache.iceberg.catalog.TableIdentifier.parse("db.v_x")
    view = catalog.loadView(ident)
    version = view.currentVersion()
    spark_sql = view.sqlFor("spark").sql()
    view.replaceVersion() \
        .withSchema(view.schema()) \
        .withDefaultNamespace(version.defaultNamespace()) \
        .withQuery("spark", spark_sql) \
        .withQuery("trino", 'SELECT id FROM "lake"."db"."v_base" WHERE kind = \'x\'') \
        .commit()

    assert sorted(r[0] for r in spark.sql("SELECT id FROM lake.db.v_x").collect()) == [1, 3]
    dialects = sorted(r.dialect() for r in catalog.loadView(ident).currentVersion().representations())
    assert dialects == ["spark", "trino"]
    # And the view's metadata file on disk carries both.
    metadata = sorted((Path(catalogs["lake"]) / "warehouse" / "db" / "v_x" / "metadata").glob("*.metadata.json"))
    raw = metadata[-1].read_bytes()
    last = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)  # views default to gzip
    current = next(v for v in last["versions"] if v["version-id"] == last["current-version-id"])
    assert sorted(r["dialect"] for r in current["representations"]) == ["spark", "trino"]
    persistent = [r.viewName for r in spark.sql("SHOW VIEWS IN lake.db").collect() if not r.isTemporary]
    assert persistent == ["v_x"]
