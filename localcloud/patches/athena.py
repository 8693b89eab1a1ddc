"""Athena runs SQL for real (moto 5.2.5).

Gap: moto records query executions, moves them QUEUED -> RUNNING -> SUCCEEDED on each GetQueryExecution
and returns empty (or pre-seeded) results. Here StartQueryExecution hands the query to
localcloud.executors.athena_exec (Trino SQL -> DuckDB over the Glue catalog's Iceberg tables and views);
GetQueryExecution reports its true state (FAILED with StateChangeReason and AthenaError), GetQueryResults
returns its rows (header row first, paginated by MaxResults/NextToken, types as Athena names them) and the
CSV lands in the output location. `CREATE/DROP DATABASE` stay moto's (and also create/drop the Glue database,
as Athena does). A query with no output location is refused as AWS does, and so is a QueryString longer
than 262,144 bytes in UTF-8 (Athena's query string quota, not adjustable; moto does not check it), with
InvalidRequestException and the API's validation message (without echoing the query).
Queries run as the calling principal (the IAM principal behind the request's access key; the admin keys read
everything): Lake Formation permissions are checked by the executor.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from typing import Any

from moto.athena import models as athena_models
from moto.athena import responses as athena_responses

from ..executors import athena_exec

log = logging.getLogger("localcloud.athena")

_orig_start = athena_models.AthenaBackend.start_query_execution
_orig_get_query_execution = athena_responses.AthenaResponse.get_query_execution
_orig_get_query_results = athena_responses.AthenaResponse.get_query_results
_orig_stop = athena_responses.AthenaResponse.stop_query_execution

_request = threading.local()  # the caller of the StartQueryExecution being handled on this thread
MAX_QUERY_BYTES = 262_144  # UTF-8 (Athena service quotas: query string length)
ENGINE = {"SelectedEngineVersion": "Athena engine version 3", "EffectiveEngineVersion": "Athena engine version 3"}


class _NoOutputLocation(Exception):
    pass


def _output_location(backend, config: dict[str, Any] | None, workgroup: str | None) -> str | None:
    wg = backend.work_groups.get(workgroup or "primary")
    wg_conf = (wg.configuration or {}) if wg else {}
    wg_location = (wg_conf.get("ResultConfiguration") or {}).get("OutputLocation")
    location = (config or {}).get("OutputLocation")
    if wg_conf.get("EnforceWorkGroupConfiguration") and wg_location:
        location = wg_location
    return location or wg_location


def _start(self, query: str, context: Any, config: dict[str, Any], workgroup: str,
           execution_parameters: list[str] | None) -> str:
    base = _output_location(self, config, workgroup)
    if not base:
        raise _NoOutputLocation()
    exec_id = _orig_start(self, query, context, config, workgroup, execution_parameters)
    ctx = context if isinstance(context, dict) else {}
    ddl = bool(self._CREATE_DB_PATTERN.match(query) or self._DROP_DB_PATTERN.match(query))
    if ddl:
        _mirror_database_ddl(self, query)
    q = athena_exec.LocalQuery(
        id=exec_id, sql=query, database=ctx.get("Database"), account_id=self.account_id, region=self.region_name,
        output_location=base.rstrip("/") + f"/{exec_id}.csv",
    )
    q.principal = getattr(_request, "principal", None)
    q.workgroup = workgroup or "primary"  # type: ignore[attr-defined]
    q.context = ctx  # type: ignore[attr-defined]
    if execution_parameters:
        q.state, q.reason = "FAILED", "NOT_SUPPORTED: ExecutionParameters are not supported by the local Athena"
        q.completed = q.submitted
        with athena_exec._queries_lock:
            athena_exec._queries[exec_id] = q
        return exec_id
    athena_exec.submit(q, ddl_handled=ddl)
    return exec_id


def _mirror_database_ddl(backend, query: str) -> None:
    from moto.glue.models import glue_backends

    glue = glue_backends[backend.account_id][backend.region_name]
    create = backend._CREATE_DB_PATTERN.match(query)
    drop = backend._DROP_DB_PATTERN.match(query)
    try:
        if create and create.group(1).lower() not in glue.databases:
            glue.create_database(create.group(1).lower(), {"Name": create.group(1).lower()})
        elif drop and drop.group(1).lower() in glue.databases:
            glue.delete_database(drop.group(1).lower())
    except Exception:
        log.warning("could not mirror %r into the Glue Data Catalog", query, exc_info=True)


def start_query_execution(self):
    from .. import lakeformation_model

    if len((self._get_param("QueryString") or "").encode("utf-8")) > MAX_QUERY_BYTES:
        return self.error("1 validation error detected: Value at 'queryString' failed to satisfy constraint: "
                          f"Member must have length less than or equal to {MAX_QUERY_BYTES}", 400)

    _request.principal = (lakeformation_model.caller_principal(self.headers)
                          if lakeformation_model.enforced() else None)
    try:
        return _orig_start_response(self)
    except _NoOutputLocation:
        return self.error("No output location provided. An output location is required either through the "
                          "Workgroup result configuration setting or as an API input.", 400)
    finally:
        _request.principal = None


_orig_start_response = athena_responses.AthenaResponse.start_query_execution


def _ts(t: float | None) -> float | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).timestamp()


def get_query_execution(self):
    exec_id = self._get_param("QueryExecutionId")
    q = athena_exec.get(exec_id)
    if q is None:
        return _orig_get_query_execution(self)
    return json.dumps({"QueryExecution": describe(q)})


def describe(q: athena_exec.LocalQuery) -> dict[str, Any]:
    status: dict[str, Any] = {"State": q.state, "SubmissionDateTime": _ts(q.submitted)}
    if q.completed is not None:
        status["CompletionDateTime"] = _ts(q.completed)
    if q.reason:
        status["StateChangeReason"] = q.reason
    if q.state == "FAILED":
        status["AthenaError"] = {"ErrorCategory": 2 if (q.error_type or 0) > 1 else 1,
                                 "ErrorType": q.error_type or 1, "Retryable": False, "ErrorMessage": q.reason}
    engine_ms = int(((q.completed or q.started or q.submitted) - (q.started or q.submitted)) * 1000)
    queue_ms = int(((q.started or q.submitted) - q.submitted) * 1000)
    upper = q.sql.lstrip().upper()
    statement_type = "DDL" if q.statement_type == "DDL" or upper.startswith(
        ("ALTER", "CREATE", "DESCRIBE", "DROP", "MSCK", "SHOW")) else "DML"
    return {
        "QueryExecutionId": q.id,
        "Query": q.sql,
        "StatementType": statement_type,
        "ResultConfiguration": {"OutputLocation": q.output_location},
        "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
        "QueryExecutionContext": getattr(q, "context", {}) or {},
        "Status": status,
        "Statistics": {"EngineExecutionTimeInMillis": engine_ms, "DataScannedInBytes": 0,
                       "TotalExecutionTimeInMillis": engine_ms + queue_ms, "QueryQueueTimeInMillis": queue_ms,
                       "ServicePreProcessingTimeInMillis": 0, "QueryPlanningTimeInMillis": 0,
                       "ServiceProcessingTimeInMillis": 0,
                       "ResultReuseInformation": {"ReusedPreviousResult": False}},
        "WorkGroup": getattr(q, "workgroup", "primary"),
        "EngineVersion": ENGINE,
        "SubstatementType": "SELECT" if statement_type == "DML" else "CREATE_DATABASE",
    }


def get_query_results(self):
    exec_id = self._get_param("QueryExecutionId")
    q = athena_exec.get(exec_id)
    if q is None:
        return _orig_get_query_results(self)
    if q.state in ("QUEUED", "RUNNING"):
        return self.error(f"Query has not yet finished. Current state: {q.state}", 400)
    if q.state != "SUCCEEDED":
        return self.error(q.reason or f"Query {q.state}", 400)
    max_results = int(self._get_param("MaxResults") or 1000)
    if not 1 <= max_results <= 1000:
        return self.error("MaxResults must be between 1 and 1000", 400)
    token = self._get_param("NextToken")
    all_rows: list[list[str | None]] = []
    if q.rows_returned:
        all_rows = [[c["Name"] for c in q.columns], *q.rows]  # Athena's first row is the header
    try:
        start = int(token) if token else 0
    except ValueError:
        return self.error("NextToken is not valid", 400)
    page = all_rows[start:start + max_results]
    body: dict[str, Any] = {
        "UpdateCount": 0,
        "ResultSet": {
            "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in page],
            "ResultSetMetadata": {"ColumnInfo": q.columns},
        },
    }
    if start + max_results < len(all_rows):
        body["NextToken"] = str(start + max_results)
    return json.dumps(body)


def stop_query_execution(self):
    q = athena_exec.get(self._get_param("QueryExecutionId"))
    if q is not None and q.state in ("QUEUED", "RUNNING"):
        q.cancelled = True  # type: ignore[attr-defined] - the engine finishes, the result is discarded
        q.state = "CANCELLED"
    return _orig_stop(self)


def apply() -> None:
    athena_models.AthenaBackend.start_query_execution = _start
    athena_responses.AthenaResponse.start_query_execution = start_query_execution
    athena_responses.AthenaResponse.get_query_execution = get_query_execution
    athena_responses.AthenaResponse.get_query_results = get_query_results
    athena_responses.AthenaResponse.stop_query_execution = stop_query_execution
