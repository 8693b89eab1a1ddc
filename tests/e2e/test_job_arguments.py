"""The local tools run the job scripts with the deployed jobs' arguments: the DefaultArguments Glue holds
for both jobs of the applied stack are exactly what tools/glue_job_args.py renders for the same names
(tests/unit/test_glue_job_args.py compares the ingest job with the planned dev and prod stacks; the view
job's arguments are only known after apply, so they are compared here).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tools.glue_job_args import job_arguments

from .conftest import DeployedStack

pytestmark = pytest.mark.e2e


def _tf_var(stack: DeployedStack, name: str) -> str:
    prefix = f"-var={name}="
    (value,) = [v[len(prefix):] for v in stack.tf_vars if v.startswith(prefix)]
    return value


@pytest.mark.parametrize("job", ["ingest", "views"])
def test_deployed_job_arguments_are_what_the_local_tools_render(deployed_stack: DeployedStack, job):
    out = deployed_stack.outputs
    buckets = out["bucket_names"]
    package = _tf_var(deployed_stack, "glue_package_path")
    # modules/glue_jobs uploads the package under a content-addressed key
    digest = hashlib.sha256(Path(package).read_bytes()).hexdigest()[:16]
    definer = deployed_stack.client("iam").get_role(RoleName="lakepipe-local-view-definer")["Role"]["Arn"]
    table_bucket = out["table_bucket_arn"].rsplit("/", 1)[1] if out.get("table_bucket_arn") else None

    deployed = deployed_stack.client("glue").get_job(JobName=out["glue_job_names"][job])["Job"]["DefaultArguments"]
    assert deployed == job_arguments(
        job, raw_bucket=buckets["raw"], artifacts_bucket=buckets["artifacts"], warehouse_bucket=buckets["warehouse"],
        definer_role_arn=definer, table_bucket=table_bucket, package_key=f"glue/packages/{digest}/lakepipe.zip",
        log_group="/aws-glue/jobs/lakepipe-local")
