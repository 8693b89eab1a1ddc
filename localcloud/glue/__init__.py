"""Local executor of AWS Glue 5.0 job runs (see README.md here)."""

from localcloud.glue.runner import GlueRunResult, run_glue_script

__all__ = ["GlueRunResult", "run_glue_script"]
