"""Run a Pulumi program, or one component, under Pulumi's mock runtime and record every registration.

This is both the engine of ``python -m components.plan`` and the test harness: tests call
:func:`run` with a function that builds resources and get back a :class:`Graph` of what was
registered (type, name, parent, options, dependencies and inputs exactly as registered).
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import resource as pulumi_resource_runtime
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.sync_await import _sync_await

from ..policy import dig
from .mocks import PlanMocks

__all__ = ["Graph", "Recorded", "Recorder", "RunError", "run", "to_json_value"]

SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
SIG_KEY = "4dabf18193072939515e22adb298388d"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_PLACEHOLDER = "[secret]"
STACK_TYPE = "pulumi:pulumi:Stack"


class RunError(Exception):
    """The program failed under the mock runtime; ``__cause__`` holds the original error."""


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return "missing"
    if os.path.isdir(path):
        return "directory"
    return digest.hexdigest()


def to_json_value(value: Any, project_dir: Path | None = None) -> Any:
    """A protobuf-decoded property value as plain JSON: whole numbers as ints, secrets as
    ``"[secret]"``, resource references as their URN, assets and archives as their content hash."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, list):
        return [to_json_value(v, project_dir) for v in value]
    if isinstance(value, str):
        return "[unknown]" if value == UNKNOWN else value
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            return SECRET_PLACEHOLDER
        if sig == RESOURCE_SIG:
            return value.get("urn")
        if sig == OUTPUT_SIG:
            return SECRET_PLACEHOLDER if value.get("secret") else to_json_value(value.get("value"), project_dir)
        if sig in (ASSET_SIG, ARCHIVE_SIG):
            kind = "asset" if sig == ASSET_SIG else "archive"
            if "path" in value:
                path = value["path"]
                shown = path
                if project_dir is not None:
                    try:
                        shown = str(Path(path).resolve().relative_to(project_dir.resolve()))
                    except ValueError:
                        shown = Path(path).name
                return {kind: {"path": shown, "sha256": _file_sha256(path)}}
            if "text" in value:
                return {kind: {"sha256": hashlib.sha256(value["text"].encode()).hexdigest()}}
            if "uri" in value:
                return {kind: {"uri": value["uri"]}}
            if "assets" in value:
                return {kind: {"assets": {k: to_json_value(v, project_dir) for k, v in sorted(value["assets"].items())}}}
            return {kind: {}}
        return {k: to_json_value(v, project_dir) for k, v in sorted(value.items())}
    return value


@dataclass
class Recorded:
    """One registration as the engine would receive it."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    provider: str | None
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    source: str | None
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    additional_secret_outputs: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    """``create``/``update``/``delete`` timeouts given in the resource options (only those set)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """Registered outputs (components only)."""

    def get(self, path: str, default: Any = None) -> Any:
        """Input at a dotted path of camelCase keys: ``r.get("metadataOptions.httpTokens")``."""
        return dig(self.inputs, path, default)

    def json_input(self, key: str) -> Any:
        """An input holding a JSON document (IAM policies, container definitions), parsed."""
        value = self.inputs.get(key)
        return json.loads(value) if isinstance(value, str) else value


class Graph:
    """Every registration of one run, sorted by URN, plus the stack's outputs."""

    def __init__(self, resources: Iterable[Recorded], outputs: Mapping[str, Any], *, project: str,
                 stack: str, invokes: list[tuple[str, dict]] | None = None,
                 invoke_providers: list[tuple[str, str | None]] | None = None,
                 warnings: Iterable[str] = ()):
        self.resources = sorted(resources, key=lambda r: r.urn)
        self.warnings = sorted(set(warnings))
        """What the program logged as warnings (``pulumi.log.warn``: ``pulumi preview`` shows the same), sorted."""
        self.outputs = dict(outputs)
        self.project = project
        self.stack = stack
        self.environment: str | None = None
        """The environment the stack was run as (set by :mod:`components.testing`; ``None`` otherwise)."""
        self.invokes = invokes or []
        self.invoke_providers = invoke_providers or []
        self._by_urn = {r.urn: r for r in self.resources}

    def __len__(self) -> int:
        return len(self.resources)

    def __iter__(self):
        return iter(self.resources)

    def by_urn(self, urn: str) -> Recorded:
        return self._by_urn[urn]

    def of_type(self, type_: str) -> list[Recorded]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Recorded:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}; names: {sorted(r.name for r in self.resources)}")
        return matches[0]

    def one(self, type_: str, name: str | None = None) -> Recorded:
        matches = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(matches) != 1:
            names = sorted(r.name for r in self.of_type(type_))
            raise AssertionError(f"expected one {type_}{f' named {name!r}' if name else ''}, found {len(matches)}: {names}")
        return matches[0]

    def children(self, parent: Recorded | str) -> list[Recorded]:
        urn = parent if isinstance(parent, str) else parent.urn
        return [r for r in self.resources if r.parent == urn]

    def descendants(self, parent: Recorded | str) -> list[Recorded]:
        out, todo = [], [parent if isinstance(parent, str) else parent.urn]
        while todo:
            kids = self.children(todo.pop())
            out.extend(kids)
            todo.extend(k.urn for k in kids)
        return sorted(out, key=lambda r: r.urn)

    def types(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.resources:
            counts[r.type] = counts.get(r.type, 0) + 1
        return dict(sorted(counts.items()))


class _Warnings(logging.Handler):
    """Collects the warnings the program logs through the engine (``pulumi.log.warn``)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.WARNING:
            self.messages.append(record.getMessage())


class Recorder(MockMonitor):
    """A mock monitor that keeps each raw ``RegisterResourceRequest``, with URNs shaped as the
    real engine shapes them (no ``pulumi:pulumi:Stack$`` prefix; the full parent type chain)."""

    def __init__(self, mocks: pulumi.runtime.Mocks, project_dir: Path | None = None):
        super().__init__(mocks)
        self.project_dir = project_dir
        self.records: dict[str, Recorded] = {}
        self.component_outputs: dict[str, dict[str, Any]] = {}
        self.invokes: list[tuple[str, dict]] = []
        self.invoke_providers: list[tuple[str, str | None]] = []
        """(token, provider reference) of each invoke: which provider answered it."""
        self._qualified_types: dict[str, str] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        qualified = type_
        if parent and parent in self._qualified_types:
            qualified = f"{self._qualified_types[parent]}${type_}"
        urn = "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), qualified, name])
        if type_ != STACK_TYPE:
            self._qualified_types[urn] = qualified
        return urn

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type == STACK_TYPE:
            return response
        urn = response.urn
        parent = request.parent if request.parent and STACK_TYPE not in request.parent.split("::")[2] else None
        source = None
        if request.HasField("sourcePosition") and request.sourcePosition.uri:
            source = f"{self._relative(request.sourcePosition.uri)}:{request.sourcePosition.line}"
        inputs = to_json_value(json_format.MessageToDict(request.object), self.project_dir)
        self.records[urn] = Recorded(
            urn=urn, type=request.type, name=request.name, parent=parent, custom=bool(request.custom),
            provider=request.provider or None, protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete), delete_before_replace=bool(request.deleteBeforeReplace),
            dependencies=sorted(set(request.dependencies)),
            property_dependencies={k: sorted(set(v.urns)) for k, v in sorted(request.propertyDependencies.items())},
            inputs=inputs if isinstance(inputs, dict) else {}, source=source,
            ignore_changes=sorted(request.ignoreChanges), replace_on_changes=sorted(request.replaceOnChanges),
            additional_secret_outputs=sorted(request.additionalSecretOutputs),
            aliases=sorted(a.urn for a in request.aliases if a.urn),
            custom_timeouts={k: v for k in ("create", "update", "delete")
                             if (v := getattr(request.customTimeouts, k, ""))},
        )
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802
        outputs = to_json_value(json_format.MessageToDict(request.outputs), self.project_dir)
        self.component_outputs[request.urn] = outputs if isinstance(outputs, dict) else {}
        return super().RegisterResourceOutputs(request)

    def Invoke(self, request):  # noqa: N802
        self.invokes.append((request.tok, to_json_value(json_format.MessageToDict(request.args))))
        self.invoke_providers.append((request.tok, request.provider or None))
        return super().Invoke(request)

    def _relative(self, uri: str) -> str:
        path = uri.removeprefix("file://")
        if self.project_dir is not None:
            try:
                return str(Path(path).resolve().relative_to(self.project_dir.resolve()))
            except ValueError:
                pass
        marker = "site-packages/"
        return path.split(marker, 1)[1] if marker in path else Path(path).name


def _top_frame_stack_trace():
    """What ``pulumi.runtime.resource._get_stack_trace`` computes, for the one frame the plan records.

    The SDK extracts the whole Python stack with source lines and converts every frame to a URI on each
    registration, which costs more the deeper components nest. The engine takes a resource's source
    position from the first frame only, so under the mock runtime that frame is all we build: the caller
    of the third ``__init__`` up the stack (Resource, Custom/ComponentResource, the concrete class).
    """
    from pulumi.runtime.proto import source_pb2
    frame, seen = sys._getframe(1), 0
    while frame is not None:
        if frame.f_code.co_name == "__init__":
            seen += 1
            if seen == 3:
                break
        frame = frame.f_back
    caller = frame.f_back if frame is not None else None
    if caller is None or not caller.f_code.co_filename:
        return source_pb2.StackTrace()
    try:
        uri = Path(caller.f_code.co_filename).as_uri()
    except ValueError:
        return source_pb2.StackTrace()
    position = source_pb2.SourcePosition(uri=uri, line=caller.f_lineno)
    return source_pb2.StackTrace(frames=[source_pb2.StackFrame(pc=position)])


def _config_values(config: Mapping[str, Any]) -> dict[str, str]:
    """Pulumi passes structured config to programs as JSON strings."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


async def _resolve_outputs(outputs: Mapping[str, Any], project_dir: Path | None) -> dict[str, Any]:
    resolved = {}
    for key, value in sorted(outputs.items()):
        out = pulumi.Output.from_input(value)
        secret = await out.is_secret()
        known = await out.is_known()
        raw = await out.future(with_unknowns=True)
        if secret:
            resolved[key] = SECRET_PLACEHOLDER
        elif not known:
            resolved[key] = "[unknown]"
        else:
            resolved[key] = to_json_value(_plain(raw), project_dir)
    return resolved


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, pulumi.Resource):
        return getattr(value, "_name", repr(value))
    return str(value)


def run(program: Callable[[], Any], *, config: Mapping[str, Any] | None = None,
        secret_keys: Iterable[str] = (), project: str = "microservices", stack: str = "dev",
        project_dir: Path | str | None = None, mocks: pulumi.runtime.Mocks | None = None,
        preview: bool = False, stack_references: Mapping[str, Mapping[str, Any]] | None = None) -> Graph:
    """Run ``program`` (a function that declares resources) under mocks; return what it registered.

    ``config`` uses full keys (``{"microservices:environment": "dev", "aws:region": "us-east-1"}``);
    structured values may be dicts or lists. ``stack_references`` gives the outputs of the stacks the
    program reads with ``pulumi.StackReference`` (stack name -> outputs; default: none). Raises the program's own exception unchanged
    (a :class:`~components.validation.CatalogError` stays a CatalogError) so callers can tell
    invalid input from other failures.
    """
    config = dict(config or {})
    config.setdefault("aws:region", "us-east-1")
    pdir = Path(project_dir).resolve() if project_dir is not None else None
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    failed = True
    try:
        pulumi_settings.ROOT.set(None)
        pulumi_resource_runtime._get_stack_trace = _top_frame_stack_trace
        recorder = Recorder(mocks or PlanMocks(region=str(config["aws:region"]), stack_references={
            k: dict(v) for k, v in (stack_references or {}).items()}), pdir)
        logged = _Warnings()
        logger = logging.Logger(f"{__name__}.engine")
        logger.addHandler(logged)
        pulumi.runtime.set_mocks(recorder.mocks, project=project, stack=stack, preview=preview, monitor=recorder,
                                 logger=logger)
        pulumi.runtime.set_all_config(_config_values(config), secret_keys=list(secret_keys))
        outputs: dict[str, Any] = {}

        async def body() -> None:
            result = program()
            if asyncio.iscoroutine(result):
                await result
            root = pulumi_settings.get_root_resource()
            exported = dict(getattr(root, "outputs", {}) or {})
            outputs.update(await _resolve_outputs(exported, pdir))

        pulumi_settings.SETTINGS.rpc_manager.clear()
        from pulumi.runtime.stack import run_pulumi_func
        _sync_await(run_pulumi_func(body))
        records = list(recorder.records.values())
        for rec in records:
            rec.outputs = recorder.component_outputs.get(rec.urn, {})
        failed = False
        return Graph(records, outputs, project=project, stack=stack, invokes=recorder.invokes,
                     invoke_providers=recorder.invoke_providers, warnings=logged.messages)
    finally:
        _discard_pending(loop, failed)
        pulumi_settings.ROOT.set(None)
        asyncio.set_event_loop(None)
        loop.close()


def _discard_pending(loop: asyncio.AbstractEventLoop, failed: bool) -> None:
    """After a run, and above all after a failed one: forget the outputs the SDK still tracks and cancel
    the tasks left on this run's loop, so the next run in the process neither waits on tasks of a closed
    loop nor meets their unretrieved exceptions."""
    with pulumi_settings.SETTINGS.lock:
        tracked = list(pulumi_settings.SETTINGS.outputs)
        pulumi_settings.SETTINGS.outputs.clear()
    pulumi_settings.SETTINGS.rpc_manager.clear()
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    for task in tracked:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" at garbage collection
    if failed:
        # A failed run leaves coroutines the SDK created but never awaited: collect them now, quietly, rather
        # than in the middle of whatever the process does next.
        del tracked, pending
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gc.collect()
