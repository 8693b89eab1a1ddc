"""Step Functions gaps (moto 5.2.5, engine = moto.stepfunctions.parser with execute_state_machine=true).

- `arn:aws:states:::glue:startJobRun.sync` crashed with
  `'NoneType' object has no attribute 'interrupt_all'`: StateTaskServiceCallback._eval_integration_pattern
  calls `callback_endpoint.interrupt_all()` unconditionally, but services that only support .sync (Glue)
  have no callback endpoint. Fixed by a copy of that method with a None check (upstream LocalStack's fix).
- `ValidateStateMachineDefinition` (called by the Terraform AWS provider at plan time) and
  `ListStateMachineVersions` are not routed by moto's StepFunctionResponse (HTTP 500). Added; validation
  runs the engine's own static analyser, as LocalStack's provider does.
- The engine's service integrations sign with fixed fake keys (`ak`/`sk`). On AWS, Step Functions calls
  services with the state machine's execution role (trust: states.amazonaws.com; its conditions see
  aws:SourceAccount and aws:SourceArn = the state machine ARN)
  (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html). Here every
  integration client (Lambda, Glue, SNS, SQS, aws-sdk, ...) is signed with that role's assumed-role
  credentials when IAM enforcement is on, so the role's identity policies are evaluated; a role the service
  cannot assume fails the task.
"""

from __future__ import annotations

import importlib
import json
import sys
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import boto3
from botocore.config import Config
from moto.stepfunctions import responses as sfn_responses
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task
from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import StateCredentials
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_callback as cb,
)
from moto.stepfunctions.parser.asl.utils import boto_client

from .. import config, principals

# Every engine module that imported boto_client_for by name (state_task_service_factory imports the services).
_ENGINE_MODULES = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_factory",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3",
)
_orig_boto_client_for = boto_client.boto_client_for
_orig_eval_state_credentials = state_task.StateTask._eval_state_credentials


@dataclass
class _MachineCredentials(StateCredentials):
    """The execution role plus the state machine it runs for (aws:SourceArn of the role assumption)."""

    state_machine_arn: str | None = None


def _eval_state_credentials(self, env) -> StateCredentials:
    creds = _orig_eval_state_credentials(self, env)
    machine = (env.states.context_object.context_object_data.get("StateMachine") or {}).get("Id")
    return _MachineCredentials(role_arn=creds.role_arn, state_machine_arn=machine)


def _boto_client_for(region: str, service: str, state_credentials: Any = None):
    keys = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}  # the admin keys, IAM off
    if config.current().iam_enabled:
        role_arn = getattr(state_credentials, "role_arn", None)
        if not role_arn:
            raise principals.ServiceRoleError("Step Functions has no execution role to call " + service)
        keys = principals.assume_service_role(
            role_arn, "states.amazonaws.com", source_arn=getattr(state_credentials, "state_machine_arn", None),
            session_name="StepFunctions", region=region).boto3_kwargs()
    timeout = boto_client.TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS
    return boto3.client(service_name=service, region_name=region, endpoint_url=config.current().endpoint_url,
                        config=Config(parameter_validation=False, retries={"max_attempts": 0, "total_max_attempts": 1},
                                      connect_timeout=timeout, read_timeout=timeout), **keys)


def _install_boto_client_for() -> None:
    for name in _ENGINE_MODULES:
        importlib.import_module(name)
    boto_client.boto_client_for = _boto_client_for
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) is \
                _orig_boto_client_for:
            module.boto_client_for = _boto_client_for


def _eval_integration_pattern(self, env, resource_runtime_part, normalised_parameters, state_credentials) -> None:
    task_output = env.stack.pop()
    callback_endpoint = None
    if cb.ResourceCondition.WaitForTaskToken in self._supported_integration_patterns:
        callback_id = env.states.context_object.context_object_data["Task"]["Token"]
        callback_endpoint = env.callback_pool_manager.get(callback_id)

    self.timeout.eval(env=env)
    timeout_seconds = env.stack.pop()

    heartbeat_endpoint = None
    if self.heartbeat:
        self.heartbeat.eval(env=env)
        heartbeat_seconds = env.stack.pop()
        heartbeat_endpoint = callback_endpoint.setup_heartbeat_endpoint(heartbeat_seconds=heartbeat_seconds)

    try:
        if self.resource.condition == cb.ResourceCondition.WaitForTaskToken:
            outcome = self._eval_wait_for_task_token(
                env=env, timeout_seconds=timeout_seconds, callback_endpoint=callback_endpoint,
                heartbeat_endpoint=heartbeat_endpoint,
            )
        else:
            env.stack.append(task_output)
            if self.resource.condition == cb.ResourceCondition.Sync:
                sync_resolver = self._build_sync_resolver(
                    env=env, resource_runtime_part=resource_runtime_part,
                    normalised_parameters=normalised_parameters, state_credentials=state_credentials,
                )
            else:
                sync_resolver = self._build_sync2_resolver(
                    env=env, resource_runtime_part=resource_runtime_part,
                    normalised_parameters=normalised_parameters, state_credentials=state_credentials,
                )
            outcome = self._eval_sync(
                env=env, timeout_seconds=timeout_seconds, callback_endpoint=callback_endpoint,
                heartbeat_endpoint=heartbeat_endpoint, sync_resolver=sync_resolver,
            )
    except Exception as integration_exception:  # noqa: BLE001 - re-raised below, as upstream
        outcome = integration_exception
    finally:
        if callback_endpoint is not None:  # <- the fix
            callback_endpoint.interrupt_all()

    if isinstance(outcome, cb.CallbackOutcomeTimedOut):
        raise cb.CallbackTimeoutError()
    elif isinstance(outcome, cb.HeartbeatTimedOut):
        raise cb.HeartbeatTimeoutError()
    elif isinstance(outcome, cb.CallbackOutcomeFailure):
        raise cb.CallbackOutcomeFailureError(callback_outcome_failure=outcome)
    elif isinstance(outcome, cb.CallbackOutcomeSuccess):
        env.stack.append(json.loads(outcome.output))
    elif isinstance(outcome, Exception):
        raise outcome
    else:
        env.stack.append(outcome)


def validate_state_machine_definition(self) -> str:
    # Same checks as the engine's CreateStateMachine (LocalStack's provider._validate_definition, which
    # moto vendors but cannot import: it needs the localstack package).
    from moto.stepfunctions.parser.asl.parse.asl_parser import ASLParserException
    from moto.stepfunctions.parser.asl.static_analyser.express_static_analyser import ExpressStaticAnalyser
    from moto.stepfunctions.parser.asl.static_analyser.static_analyser import StaticAnalyser

    definition = self._get_param("definition")
    analyser = ExpressStaticAnalyser() if self._get_param("type") == "EXPRESS" else StaticAnalyser()
    diagnostics: list[dict[str, Any]] = []
    try:
        analyser.analyse(definition)
        result = "OK"
    except ASLParserException as exc:
        result = "FAIL"
        diagnostics.append({"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": repr(exc)})
    except Exception as exc:  # noqa: BLE001
        result = "FAIL"
        diagnostics.append({"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED",
                            "message": f"Error={type(exc).__name__} Args={list(exc.args)}"})
    return json.dumps({"result": result, "diagnostics": diagnostics, "truncated": False})


def list_state_machine_versions(self) -> str:
    arn = self._get_param("stateMachineArn")
    sm = self.stepfunction_backend.describe_state_machine(arn)
    versions = sorted(getattr(sm, "versions", {}).values(), key=lambda v: v.version, reverse=True)
    return json.dumps(
        {"stateMachineVersions": [
            {"stateMachineVersionArn": v.arn, "creationDate": v.creation_date.replace(tzinfo=UTC).timestamp()} for v in versions]}
    )


def apply() -> None:
    state_task.StateTask._eval_state_credentials = _eval_state_credentials
    _install_boto_client_for()
    cb.StateTaskServiceCallback._eval_integration_pattern = _eval_integration_pattern
    sfn_responses.StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition
    sfn_responses.StepFunctionResponse.list_state_machine_versions = list_state_machine_versions
