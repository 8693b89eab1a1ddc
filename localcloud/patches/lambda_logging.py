"""Lambda `LoggingConfig` is stored, returned and used (moto 5.2.5).

Gap: moto drops `LoggingConfig` on CreateFunction/UpdateFunctionConfiguration and never returns it, so a
Terraform `logging_config` block (log format, log group) is a perpetual in-place diff. Stored now, with
AWS's defaults (`LogFormat: Text`, `LogGroup: /aws/lambda/<name>`; `ApplicationLogLevel`/`SystemLogLevel`
`INFO` when the format is JSON), returned by GetFunction(Configuration), and the function's output goes to
the configured log group (localcloud's executor writes to `logs_group_name`). Log levels are not applied
to what the handler prints. Applied after `lambda_` (it wraps that module's replacements).
"""

from __future__ import annotations

from typing import Any

from moto.awslambda import models as lambda_models


def _normalise(name: str, given: dict[str, Any] | None) -> dict[str, Any]:
    cfg = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    cfg.update({k: v for k, v in (given or {}).items() if v})
    if cfg["LogFormat"] == "JSON":
        cfg.setdefault("ApplicationLogLevel", "INFO")
        cfg.setdefault("SystemLogLevel", "INFO")
    else:
        cfg.pop("ApplicationLogLevel", None)
        cfg.pop("SystemLogLevel", None)
    return cfg


def apply() -> None:
    cls = lambda_models.LambdaFunction
    prev_init, prev_get, prev_update = cls.__init__, cls.get_configuration, cls.update_configuration

    def _init(self, account_id: str, spec: dict[str, Any], region: str, version: Any = 1) -> None:
        prev_init(self, account_id, spec, region, version)
        self.localcloud_logging_config = _normalise(self.function_name, spec.get("LoggingConfig"))
        self.logs_group_name = self.localcloud_logging_config["LogGroup"]

    def _get_configuration(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        cfg = prev_get(self, *args, **kwargs)
        cfg["LoggingConfig"] = getattr(self, "localcloud_logging_config", None) or _normalise(self.function_name, None)
        return cfg

    def _update_configuration(self, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "LoggingConfig" in config_updates:
            self.localcloud_logging_config = _normalise(self.function_name, config_updates["LoggingConfig"])
            self.logs_group_name = self.localcloud_logging_config["LogGroup"]
        return prev_update(self, config_updates)

    cls.__init__ = _init
    cls.get_configuration = _get_configuration
    cls.update_configuration = _update_configuration
