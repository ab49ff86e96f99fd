"""The lambda pattern in the house shape: each trigger kind is one object in its own module (args, validation,
builder), mapped by kind without name lookups; one CORS and one throttle validation for the shared HTTP API
and the triggers; specs resolved once into settings whose fields carry the documented defaults."""

from __future__ import annotations

import ast
import re
import sys

import pytest

from components.blocks import http_routes
from components.gateway import validate as gateway_validate
from components.serverless import http_api
from components.serverless.args import LambdaServiceArgs, LambdaSettings, resolve_lambda
from components.serverless.triggers import KINDS, validate_triggers
from components.serverless.triggers import http as http_trigger
from components.serverless.triggers import url as url_trigger
from components.serverless.triggers.kinesis import KinesisTrigger
from components.serverless.triggers.sqs import SqsTrigger
from tests.conftest import ROOT

SERVERLESS = ROOT / "components" / "serverless"
BAD_CORS = {"allow_origins": ["*"], "allow_credentials": True, "max_age": 100000}


def test_each_trigger_kind_is_one_class_in_its_own_module():
    assert set(KINDS) == {"http", "url", "s3", "kinesis", "dynamodb", "sqs", "schedule"}
    for kind, cls in KINDS.items():
        assert cls.kind == kind
        assert cls.__module__ == f"components.serverless.triggers.{kind}"
        args = next(v for k, v in vars(sys.modules[cls.__module__]).items() if k.endswith("TriggerArgs"))
        assert set(cls.keys) == set(args.__annotations__), kind


def test_trigger_dispatch_uses_no_name_lookups():
    """``globals()[f"_check_{kind}"]`` became the explicit ``KINDS`` map: no ``globals()`` anywhere in the pattern
    (but the package's PEP 562 lazy exports, ``__getattr__``/``__dir__`` of ``__init__.py``, as in ``components``)."""
    def lookups(tree):
        for node in tree.body:
            if not (isinstance(node, ast.FunctionDef) and node.name in ("__getattr__", "__dir__")):
                yield from ast.walk(node)
    calls = [f"{path.relative_to(ROOT)}:{node.lineno}" for path in sorted(SERVERLESS.rglob("*.py"))
             for node in lookups(ast.parse(path.read_text()))
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("globals", "getattr", "eval", "vars")]
    assert calls == []


def test_pattern_reads_settings_not_dicts_with_literal_fallbacks():
    fallbacks = [f"{path.relative_to(ROOT)}:{i}" for path in sorted(SERVERLESS.rglob("*.py"))
                 for i, line in enumerate(path.read_text().splitlines(), 1)
                 if re.search(r'\.get\("[a-z_]*", ', line)]
    assert fallbacks == []


@pytest.mark.parametrize("where, trigger", [("http", {"http": {"routes": ["GET /a"], "cors": BAD_CORS}}),
                                            ("url", {"url": {"cors": BAD_CORS}})])
def test_http_api_http_and_url_triggers_share_one_cors_validation(where, trigger):
    assert (http_trigger.validate_cors is url_trigger.validate_cors is http_routes.validate_cors
            is gateway_validate.validate_cors)
    expected = [(p.path.replace("api.cors", f"triggers[0].{where}.cors"), p.message)
                for p in http_api.validate_http_api({"cors": BAD_CORS}, "api")]
    got = [(p.path, p.message) for p in validate_triggers("orders", [trigger], "triggers", 10)]
    assert got == expected
    assert {p for p, _ in got} == {f"triggers[0].{where}.cors.allow_origins", f"triggers[0].{where}.cors.max_age"}


def test_http_apis_and_the_gateway_log_the_same_access_log_fields():
    from components.gateway import component as gateway_component
    assert http_api.ACCESS_LOG_FORMAT is gateway_component.ACCESS_LOG_FORMAT is http_routes.ACCESS_LOG_FORMAT
    assert {"requestId", "routeKey", "status", "responseLatency", "integrationError", "authorizerError"} <= set(
        __import__("json").loads(http_routes.ACCESS_LOG_FORMAT))


def test_route_helpers_live_once_in_the_http_routes_block():
    """The gateway and the per-function HTTP APIs parse route keys and build preflights with one copy."""
    import ast as _ast
    for path in (ROOT / "components").rglob("*.py"):
        if path.name == "http_routes.py":
            continue
        defined = {n.name for n in _ast.walk(_ast.parse(path.read_text())) if isinstance(n, _ast.FunctionDef)}
        assert not defined & {"parse_route", "preflight_routes", "validate_cors", "validate_throttle",
                              "cors_configuration", "route_slug"}, path


def test_http_api_and_http_trigger_share_one_throttle_validation():
    assert http_trigger.validate_throttle is http_routes.validate_throttle is gateway_validate.validate_throttle
    api = [(p.path, p.message) for p in http_api.validate_http_api({"throttle": {"rate": 0, "brust": 1}}, "api")]
    trig = [(p.path, p.message) for p in validate_triggers(
        "orders", [{"http": {"routes": ["GET /a"], "throttle": {"rate": 0, "brust": 1}}}], "triggers", 10)]
    assert [(p.replace("triggers[0].http", "api"), m) for p, m in trig] == api
    assert any("did you mean 'burst'" in m for _, m in api)


@pytest.mark.parametrize("field, default", [
    ("runtime", "python3.13"), ("architecture", "arm64"), ("memory", 256), ("timeout", 10),
    ("ephemeral_storage", 512), ("package_type", "zip"), ("tracing", True), ("vpc", False)])
def test_function_settings_carry_the_documented_defaults(field, default):
    settings = resolve_lambda({"code": "fn"})
    assert getattr(settings, field) == getattr(LambdaSettings, field) == default
    text = {"True": "true", "False": "false"}.get(str(default), str(default))
    assert f"Default: ``{text}``" in _doc(LambdaServiceArgs, field) or f"Default: {text}" in _doc(LambdaServiceArgs, field)


def test_resolve_fills_the_handler_and_takes_null_as_the_default():
    assert resolve_lambda({"code": "fn"}).handler == "handler.handler"
    assert resolve_lambda({"zip": "f.zip", "runtime": "nodejs22.x"}).handler == "index.handler"
    assert resolve_lambda({"code": "fn", "memory": None, "handler": None}).memory == 256
    http = resolve_lambda({"code": "fn", "triggers": [{"url": {}}, {"http": {"routes": ["GET /a"], "api": None}}]}).http
    assert http is not None and http[0] == 1 and http[1].api is None


@pytest.mark.parametrize("cls, defaults", [
    (KinesisTrigger, {"batch_size": 100, "starting_position": "LATEST", "parallelization": 1, "bisect_on_error": True,
                      "max_retries": 10, "max_record_age": 86400, "report_batch_item_failures": True}),
    (SqsTrigger, {"batch_size": 10, "report_batch_item_failures": True, "max_receive_count": 5, "fifo": False}),
])
def test_trigger_settings_carry_the_documented_defaults(cls, defaults):
    resolved = cls.resolve({})
    for field, value in defaults.items():
        assert getattr(resolved, field) == value, field


def _doc(typed_dict: type, field: str) -> str:
    """The docstring under ``field`` in ``typed_dict``'s source."""
    import inspect
    body = ast.parse(inspect.getsource(typed_dict)).body[0].body
    for node, following in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and node.target.id == field:
            return following.value.value
    raise AssertionError(field)
