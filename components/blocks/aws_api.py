"""Calling AWS from ``pulumi up`` itself (dynamic providers): the stack's credentials, bounded retries.

Shared by the dynamic providers that wait for a rollout (the Lambda pattern's CodeDeploy deployment, the
``vm`` pattern's instance refresh):

- :func:`stack_settings` reads the stack's ``aws:region``/``aws:profile``/``aws:assumeRoles`` (and static
  keys, as secrets) when the program runs, so the provider calls the account and region Pulumi just updated,
  not whatever the machine's default profile points at;
- :func:`session` turns those inputs back into a boto3 session in the provider process, renewing assumed-role
  credentials during long waits;
- :class:`BoundedCaller` retries throttling, 5xx answers and connection errors with backoff, within one
  deadline that also bounds the provider's polling.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import pulumi

__all__ = ["BoundedCaller", "CREDENTIAL_KEYS", "MAX_BACKOFF_SECONDS", "TRANSIENT_CODES", "Timeout", "assumed_session",
           "error_code", "is_transient", "public", "session", "stack_settings"]

#: Error codes worth retrying: throttling, and the services' transient failures.
TRANSIENT_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
    "RequestThrottled", "RequestThrottledException", "SlowDown", "ServiceUnavailable", "ServiceUnavailableException",
    "InternalFailure", "InternalError", "InternalServerError", "ServiceException", "RequestTimeout",
    "RequestTimeoutException", "PriorRequestNotComplete", "ProvisionedThroughputExceededException",
})
MAX_BACKOFF_SECONDS = 30.0
#: Inputs that are credentials (the stack's aws:accessKey/secretKey/token): used, never returned as outputs.
CREDENTIAL_KEYS = ("access_key", "secret_key", "token")


class Timeout(RuntimeError):
    """The bound of a wait, or of a call's retries, was reached."""


def error_code(err: Exception) -> str:
    """The AWS error code of a botocore ``ClientError`` (empty for other errors)."""
    response = getattr(err, "response", None) or {}
    return str((response.get("Error") or {}).get("Code") or "")


def is_transient(err: Exception) -> bool:
    """Throttling, a 5xx answer, or a connection reset/timeout: worth retrying."""
    response = getattr(err, "response", None)
    if response is None:
        # Connection resets and read timeouts (botocore's EndpointConnectionError and friends).
        return type(err).__module__.startswith(("botocore", "urllib3")) and "Connection" in type(err).__name__ \
            or type(err).__name__ in ("ReadTimeoutError", "ConnectTimeoutError")
    status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
    return error_code(err) in TRANSIENT_CODES or status >= 500


class BoundedCaller:
    """AWS calls and waits within one deadline, ``timeout`` seconds from construction.

    ``sleep`` and ``clock`` are injectable so tests run the waits instantly; ``timeout_error`` is the
    exception raised at the bound (a subclass of the provider's own error)."""

    def __init__(self, *, timeout: float, sleep: Callable[[float], None] | None = None,
                 clock: Callable[[], float] | None = None, log: Callable[[str], None] | None = None,
                 timeout_error: type[Exception] = Timeout):
        self.timeout = timeout
        self.sleep = sleep or time.sleep
        self.clock = clock or time.monotonic
        self.log = log or (lambda message: print(message, file=sys.stderr))
        self.timeout_error = timeout_error
        self.deadline = self.clock() + timeout

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def call(self, client: Any, operation: str, **kwargs: Any) -> dict[str, Any]:
        """``client.operation(**kwargs)``, retrying transient errors with exponential backoff until the
        deadline."""
        delay = 1.0
        while True:
            try:
                return getattr(client, operation)(**kwargs)
            except Exception as err:  # botocore raises ClientError and connection errors
                if not is_transient(err):
                    raise
                remaining = self.remaining()
                if remaining <= 0:
                    raise self.timeout_error(f"{operation} kept failing with {error_code(err) or type(err).__name__} "
                                             f"until the {self.timeout:.0f}-second bound: {err}") from err
                self.log(f"{operation}: {error_code(err) or type(err).__name__}, retrying in "
                         f"{min(delay, remaining):.0f} s")
                self.sleep(min(delay, remaining))
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)


# -- credentials ------------------------------------------------------------------------------------
def stack_settings(region: pulumi.Input[str]) -> dict[str, Any]:
    """The inputs that tell a dynamic provider how to reach AWS as this stack does: ``region``, ``profile``,
    ``assume_roles`` and, when the stack's config sets static keys, ``access_key``/``secret_key``/``token``
    (secrets, encrypted in the state; without them the provider uses ``aws:profile``, then the environment,
    like the AWS provider)."""
    config = pulumi.Config("aws")
    roles = config.get_object("assumeRoles") or ([config.get_object("assumeRole")]
                                                  if config.get_object("assumeRole") else [])
    return {
        "region": region,
        "profile": config.get("profile") or "",
        "assume_roles": [{"role_arn": r.get("roleArn"), "session_name": r.get("sessionName"),
                          "external_id": r.get("externalId")} for r in roles if isinstance(r, Mapping)],
        **{key: value for key, name in (("access_key", "accessKey"), ("secret_key", "secretKey"), ("token", "token"))
           if (value := config.get_secret(name)) is not None},
    }


def session(props: Mapping[str, Any], *, session_name: str = "pulumi-deploy") -> Any:
    """A boto3 session from a provider's inputs (see :func:`stack_settings`)."""
    import boto3

    region = props.get("region") or None
    if props.get("access_key") and props.get("secret_key"):
        # The stack's aws:accessKey/aws:secretKey(/aws:token), as the AWS provider uses them.
        current = boto3.Session(aws_access_key_id=props["access_key"], aws_secret_access_key=props["secret_key"],
                                aws_session_token=props.get("token") or None, region_name=region)
    else:
        current = boto3.Session(profile_name=props.get("profile") or None, region_name=region)
    for role in props.get("assume_roles") or []:
        current = assumed_session(current, role, region, session_name=session_name)
    return current


def client_config() -> Any:
    """botocore's own retries (a few), and timeouts on each request: our backoff bounds the rest."""
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=10, read_timeout=30)


def assumed_session(current: Any, role: Mapping[str, Any], region: str | None, *,
                    session_name: str = "pulumi-deploy") -> Any:
    """A boto3 session on ``role``, assumed from ``current``, whose credentials botocore renews before they
    expire. A chained AssumeRole lasts one hour at most, and a wait can be longer: credentials fetched once
    would fail the polling with ExpiredToken."""
    import boto3
    import botocore.session
    from botocore.credentials import RefreshableCredentials

    kwargs = {"RoleArn": role["role_arn"], "RoleSessionName": role.get("session_name") or session_name}
    if role.get("external_id"):
        kwargs["ExternalId"] = role["external_id"]

    def fetch() -> dict[str, str]:
        creds = current.client("sts").assume_role(**kwargs)["Credentials"]
        expiry = creds["Expiration"]
        return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": expiry.isoformat() if hasattr(expiry, "isoformat") else str(expiry)}

    core = botocore.session.get_session()
    core._credentials = RefreshableCredentials.create_from_metadata(  # botocore's documented refresh hook
        metadata=fetch(), refresh_using=fetch, method="sts-assume-role")
    return boto3.Session(botocore_session=core, region_name=region)


def public(props: Mapping[str, Any]) -> dict[str, Any]:
    """``props`` without the credentials: what a provider may return as outputs."""
    return {k: v for k, v in props.items() if k not in CREDENTIAL_KEYS}
