"""CodeDeploy traffic shifting of a Lambda alias, run by ``pulumi up`` itself: a dynamic provider on boto3.

Pulumi publishes the new version; this resource asks CodeDeploy to move the ``live`` alias to it (canary,
linear or all at once, rolled back when the error alarm fires) and waits for the outcome:

- a deployment already running for the group is waited for, never duplicated (when it targets the same
  version its outcome is this deploy's outcome);
- throttling and 5xx answers are retried with backoff, and the whole wait is bounded (``timeout_seconds``):
  past it the ``up`` fails, the deployment keeps running in CodeDeploy and the next ``up`` waits for it;
- a failed deployment fails the ``up`` with CodeDeploy's reason, and CodeDeploy has moved the alias back;
- a version whose deployment failed (or was stopped) is never deployed again: when Pulumi calls the
  provider again for it (a failed update leaves the old inputs in the state, so the next ``up`` retries),
  the provider finds that deployment in CodeDeploy's history, by the marker it writes in each deployment's
  description (at most 100 characters, CodeDeploy's limit), and records the version as failed instead of sending it traffic again. Publishing new code
  or configuration gives a new version number; ``redeploy`` (any new token) deploys the same version again.

The provider holds no state of its own and closes over nothing: every value comes from its inputs, so
its pickled form is the same on every run.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic

from ..blocks import aws_api
from ..blocks.aws_api import BoundedCaller
from ..blocks.aws_api import error_code as _error_code

__all__ = ["ACTIVE_STATUSES", "DeployTarget", "Deployer", "DeploymentError", "DeploymentTimeout",
           "LambdaDeployment", "LambdaDeploymentProvider", "deployment_minutes", "marker"]

ACTIVE_STATUSES = ["Created", "Queued", "InProgress", "Baking", "Ready"]
FAILED_STATUSES = ["Failed", "Stopped"]
#: CreateDeployment's answers when the group already runs a deployment.
BUSY_CODES = frozenset({"DeploymentLimitExceededException", "DeploymentAlreadyStartedException"})
MARKER = "microservices-deploy"
#: CodeDeploy's limit on a deployment's description (CreateDeployment answers DescriptionTooLongException).
MAX_DESCRIPTION = 100
POLL_SECONDS = 15.0
#: History read before a deployment: enough for months of deploys, bounded so a first ``up`` stays quick.
HISTORY_PAGES = 10


class DeploymentError(RuntimeError):
    """CodeDeploy did not shift traffic to the version (the deployment failed or was stopped)."""


class DeploymentTimeout(DeploymentError):
    """The deployment did not finish within the bound; it keeps running in CodeDeploy."""


@dataclass(frozen=True)
class DeployTarget:
    """What one deployment moves: ``function``'s ``alias`` to ``version``, in ``application``/``group``."""

    application: str
    group: str
    function: str
    alias: str
    version: str
    redeploy: str = ""
    pre_traffic_hook: str = ""


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def marker(target: DeployTarget) -> str:
    """The line written in each deployment's description, by which a later ``up`` recognises it.

    CodeDeploy refuses a description over 100 characters (DescriptionTooLongException), and function names
    (64), aliases (128) and ``redeploy`` tokens (128) can each exceed that: the function and alias, and the
    token, are written as short hashes, so the marker stays under 70 characters whatever the names. The
    version is written as is (``v=5``), for whoever reads the deployment in the console."""
    token = _short_hash(target.redeploy) if target.redeploy else "-"
    text = f"{MARKER} v={target.version} fn={_short_hash(f'{target.function}:{target.alias}')} redeploy={token}"
    assert len(text) <= MAX_DESCRIPTION, text
    return text


def appspec(target: DeployTarget, current: str) -> str:
    """The AppSpec of a Lambda deployment: move the alias from ``current`` to the target version."""
    spec: dict[str, Any] = {"version": 0.0, "Resources": [{target.function: {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Name": target.function, "Alias": target.alias, "CurrentVersion": current,
                       "TargetVersion": target.version}}}]}
    if target.pre_traffic_hook:
        spec["Hooks"] = [{"BeforeAllowTraffic": target.pre_traffic_hook}]
    return json.dumps(spec, sort_keys=True)


def deployment_minutes(config_name: str) -> int:
    """How long CodeDeploy's predefined Lambda configuration shifts traffic, in minutes."""
    short = config_name.rsplit(".", 1)[-1].removeprefix("Lambda")
    canary = re.fullmatch(r"Canary10Percent(\d+)Minutes?", short)
    if canary:
        return int(canary.group(1))
    linear = re.fullmatch(r"Linear10PercentEvery(\d+)Minutes?", short)
    if linear:
        return 10 * int(linear.group(1))
    return 0


def _reason(info: Mapping[str, Any]) -> str:
    parts = []
    error = info.get("errorInformation") or {}
    if error.get("message"):
        parts.append(f"{error.get('code', 'ERROR')}: {error['message']}")
    rollback = (info.get("rollbackInfo") or {}).get("rollbackMessage")
    if rollback:
        parts.append(str(rollback))
    return "; ".join(parts) or f"status {info.get('status')}"


class Deployer:
    """Runs one deployment with boto3 clients for CodeDeploy (``codedeploy``) and Lambda (``lambda_``).

    ``sleep`` and ``clock`` are injectable so tests run the waits instantly."""

    def __init__(self, codedeploy: Any, lambda_: Any, *, timeout: float, poll: float = POLL_SECONDS,
                 sleep: Callable[[float], None] | None = None, clock: Callable[[], float] | None = None,
                 log: Callable[[str], None] | None = None):
        self.codedeploy = codedeploy
        self.lambda_ = lambda_
        self.timeout = timeout
        self.poll = poll
        self.api = BoundedCaller(timeout=timeout, sleep=sleep or time.sleep, clock=clock or time.monotonic, log=log,
                                 timeout_error=DeploymentTimeout)
        self.sleep, self.clock, self.log, self.deadline = self.api.sleep, self.api.clock, self.api.log, self.api.deadline

    # -- calls ----------------------------------------------------------------------------------
    def _call(self, client: Any, operation: str, **kwargs: Any) -> dict[str, Any]:
        """``client.operation(**kwargs)``, retrying throttling and 5xx with exponential backoff until
        the deadline."""
        return self.api.call(client, operation, **kwargs)

    def current_version(self, target: DeployTarget) -> str:
        alias = self._call(self.lambda_, "get_alias", FunctionName=target.function, Name=target.alias)
        return str(alias["FunctionVersion"])

    def _deployments(self, target: DeployTarget, statuses: list[str], pages: int) -> list[dict[str, Any]]:
        ids: list[str] = []
        token = None
        for _ in range(pages):
            kwargs: dict[str, Any] = {"applicationName": target.application, "deploymentGroupName": target.group,
                                      "includeOnlyStatuses": statuses}
            if token:
                kwargs["nextToken"] = token
            page = self._call(self.codedeploy, "list_deployments", **kwargs)
            ids.extend(page.get("deployments") or [])
            token = page.get("nextToken")
            if not token:
                break
        infos: list[dict[str, Any]] = []
        for start in range(0, len(ids), 25):
            batch = self._call(self.codedeploy, "batch_get_deployments", deploymentIds=ids[start:start + 25])
            infos.extend(batch.get("deploymentsInfo") or [])
        return sorted(infos, key=lambda i: str(i.get("deploymentId")))

    def failed_before(self, target: DeployTarget) -> dict[str, Any] | None:
        """The failed or stopped deployment of this very version (and redeploy token), if any."""
        mark = marker(target)
        for info in self._deployments(target, FAILED_STATUSES, HISTORY_PAGES):
            if (info.get("description") or "").strip() == mark:
                return info
        return None

    def wait(self, deployment_id: str) -> dict[str, Any]:
        """Poll until the deployment ends; its info when it succeeded, else :class:`DeploymentError`."""
        while True:
            info = self._call(self.codedeploy, "get_deployment", deploymentId=deployment_id)["deploymentInfo"]
            status = info.get("status")
            if status == "Succeeded":
                return info
            if status in FAILED_STATUSES:
                raise DeploymentError(f"CodeDeploy deployment {deployment_id} {status.lower()}: {_reason(info)}. "
                                      "Traffic is back on the previous version.")
            remaining = self.deadline - self.clock()
            if remaining <= 0:
                raise DeploymentTimeout(
                    f"CodeDeploy deployment {deployment_id} is still {status} after {self.timeout:.0f} seconds; it "
                    "keeps running in CodeDeploy (rolled back if the error alarm fires) and the next `pulumi up` "
                    f"waits for it. To abandon it: aws deploy stop-deployment --deployment-id {deployment_id} "
                    "--auto-rollback-enabled")
            self.sleep(min(self.poll, remaining))

    # -- the deployment -------------------------------------------------------------------------
    def deploy(self, target: DeployTarget) -> dict[str, Any]:
        """Move the alias to ``target.version`` unless it is there or failed before. Returns the outcome:
        ``status`` ``current`` | ``succeeded`` | ``failed_before``, ``deployment_id``, ``live_version``
        and ``reason``; raises :class:`DeploymentError` when this deployment fails."""
        mark = marker(target)
        while True:
            running = self._deployments(target, ACTIVE_STATUSES, 1)
            if running:
                info = running[0]
                deployment_id = str(info["deploymentId"])
                if (info.get("description") or "").strip() == mark:
                    self.log(f"{target.function}:{target.alias}: waiting for deployment {deployment_id} of "
                             f"version {target.version}, already in progress")
                    self.wait(deployment_id)
                    return self._outcome("succeeded", target.version, deployment_id)
                self.log(f"{target.function}:{target.alias}: waiting for deployment {deployment_id} "
                         "(another version) to end first")
                try:
                    self.wait(deployment_id)
                except DeploymentTimeout:
                    raise
                except DeploymentError:
                    pass  # its own failure, rolled back by CodeDeploy: this version is deployed next
                continue
            current = self.current_version(target)
            if current == target.version:
                return self._outcome("current", current, "")
            failed = self.failed_before(target)
            if failed is not None:
                reason = _reason(failed)
                self.log(f"{target.function}:{target.alias}: version {target.version} failed deployment "
                         f"{failed.get('deploymentId')} ({reason}); not deployed again. Publish a change, or set "
                         "redeploy to a new value to try this version again.")
                return self._outcome("failed_before", current, str(failed.get("deploymentId")), reason)
            try:
                created = self._call(
                    self.codedeploy, "create_deployment", applicationName=target.application,
                    deploymentGroupName=target.group, description=mark,
                    revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec(target, current)}})
            except Exception as err:
                if _error_code(err) not in BUSY_CODES:
                    raise
                # Another deployment started between the check and the call: wait for it, then decide again.
                if self.deadline - self.clock() <= 0:
                    raise DeploymentTimeout(f"the deployment group stayed busy for {self.timeout:.0f} seconds: "
                                            f"{err}") from err
                self.sleep(min(self.poll, self.deadline - self.clock()))
                continue
            deployment_id = str(created["deploymentId"])
            self.log(f"{target.function}:{target.alias}: CodeDeploy deployment {deployment_id}, version {current} -> "
                     f"{target.version}")
            self.wait(deployment_id)
            return self._outcome("succeeded", target.version, deployment_id)

    @staticmethod
    def _outcome(status: str, live: str, deployment_id: str, reason: str = "") -> dict[str, Any]:
        return {"status": status, "live_version": live, "deployment_id": deployment_id, "reason": reason}


# -- the dynamic provider -------------------------------------------------------------------------
#: Inputs whose change means "deploy again"; region, credentials and the bound only say how.
DEPLOY_INPUTS = ("application", "group", "function", "alias", "version", "redeploy", "pre_traffic_hook")


def _clients(props: Mapping[str, Any]) -> tuple[Any, Any]:
    session = aws_api.session(props, session_name="pulumi-lambda-deploy")
    config = aws_api.client_config()
    return session.client("codedeploy", config=config), session.client("lambda", config=config)


def _target(props: Mapping[str, Any]) -> DeployTarget:
    return DeployTarget(application=str(props["application"]), group=str(props["group"]),
                        function=str(props["function"]), alias=str(props["alias"]), version=str(props["version"]),
                        redeploy=str(props.get("redeploy") or ""),
                        pre_traffic_hook=str(props.get("pre_traffic_hook") or ""))


def run_deployment(props: Mapping[str, Any], clients: Callable[[Mapping[str, Any]], tuple[Any, Any]] | None = None,
                   **deployer_kwargs: Any) -> dict[str, Any]:
    """Deploy ``props`` (the resource's inputs) and return the outputs to record."""
    codedeploy, lambda_ = (clients or _clients)(props)
    deployer = Deployer(codedeploy, lambda_, timeout=float(props.get("timeout_seconds") or 1800), **deployer_kwargs)
    return {**_public(props), **deployer.deploy(_target(props))}


_public = aws_api.public


class LambdaDeploymentProvider(pulumi.dynamic.ResourceProvider):
    """Create and update deploy (see :func:`run_deployment`); delete leaves the alias where it is."""

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = [k for k in DEPLOY_INPUTS if (olds.get(k) or "") != (news.get(k) or "")]
        other = [k for k in ("region", "profile", "assume_roles", "timeout_seconds") if olds.get(k) != news.get(k)]
        return pulumi.dynamic.DiffResult(changes=bool(changed or other), replaces=[], stables=[],
                                         delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        outs = run_deployment(props)
        return pulumi.dynamic.CreateResult(id_=f"{props['application']}/{props['group']}", outs=outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        if all((olds.get(k) or "") == (news.get(k) or "") for k in DEPLOY_INPUTS):
            # Only how to reach AWS changed: nothing to deploy.
            return pulumi.dynamic.UpdateResult(
                outs={**_public(olds), **_public(news), **{k: olds.get(k) for k in OUTPUT_KEYS}})
        return pulumi.dynamic.UpdateResult(outs=run_deployment(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


OUTPUT_KEYS = ("status", "live_version", "deployment_id", "reason")


class LambdaDeployment(pulumi.dynamic.Resource, module="lambda", name="Deployment"):
    """One CodeDeploy deployment of a function version to its alias, waited for by ``pulumi up``."""

    status: pulumi.Output[str]
    """``current`` (the alias already served the version), ``succeeded``, or ``failed_before`` (the
    version failed an earlier deployment and was not deployed again)."""
    live_version: pulumi.Output[str]
    """The version the alias serves after this ``up``."""
    deployment_id: pulumi.Output[str]
    """The CodeDeploy deployment that decided ``status`` (empty for ``current``)."""
    reason: pulumi.Output[str]
    """CodeDeploy's reason, for ``failed_before``."""

    def __init__(self, name: str, props: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        super().__init__(LambdaDeploymentProvider(), name,
                         {**props, **{k: None for k in OUTPUT_KEYS}}, opts)
