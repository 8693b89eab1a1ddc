"""SQS gaps hit by Terraform (moto 5.2.5).

- RedrivePolicy is returned as `json.dumps` with spaces (`{"deadLetterTargetArn": "...", ...}`); AWS returns
  compact JSON, so the AWS provider sees a perpetual diff. Returned compact now.
- SetQueueAttributes without `Policy` wiped the queue policy (`self.policy = attributes.get("Policy")`);
  only an explicit `Policy` attribute changes it now (an empty string removes it, as on AWS).
"""

from __future__ import annotations

import json
from typing import Any

from moto.sqs import models as sqs_models

_orig_set_attributes = sqs_models.Queue._set_attributes
_orig_attributes = sqs_models.Queue.attributes


def _set_attributes(self, attributes: dict[str, Any], now: float | None = None) -> None:
    previous = getattr(self, "policy", None)
    _orig_set_attributes(self, attributes, now)
    if "Policy" not in attributes:
        self.policy = previous
    elif not attributes["Policy"]:
        self.policy = None


def _attributes(self) -> dict[str, Any]:
    result = _orig_attributes.fget(self)
    if self.redrive_policy:
        result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
    return result


def apply() -> None:
    sqs_models.Queue._set_attributes = _set_attributes
    sqs_models.Queue.attributes = property(_attributes)
