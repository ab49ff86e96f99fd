"""The public API the house refactor (issue 16) promised to keep: names, type tokens and catalog keys.

Moving code between modules must not change what users import or what a stack file may say; a change here
is a change users see, made on purpose."""

from __future__ import annotations

import typing

import components
from components.patterns import PATTERN_MODULES, load_pattern

PUBLIC_NAMES = {
    "Catalog", "CatalogError", "ContainerImage", "DockerService", "EcsCluster", "EcsService", "EksCluster",
    "HttpApi", "KubernetesService", "LambdaService", "Network", "Platform", "Profile", "VmService",
    "get_profile", "load_catalog",
}

TYPE_TOKENS = {
    "ContainerImage": "microservices:ecs:ContainerImage",
    "DockerService": "microservices:docker:DockerService",
    "EcsCluster": "microservices:ecs:EcsCluster",
    "EcsService": "microservices:ecs:EcsService",
    "EksCluster": "microservices:eks:EksCluster",
    "HttpApi": "microservices:lambda:HttpApi",
    "KubernetesService": "microservices:k8s:KubernetesService",
    "LambdaService": "microservices:lambda:LambdaService",
    "Network": "microservices:network:Network",
    "Platform": "microservices:platform:Platform",
    "VmService": "microservices:vm:VmService",
}


def test_every_public_name_is_still_exported_and_importable():
    assert PUBLIC_NAMES <= set(components.__all__)
    for name in PUBLIC_NAMES:
        assert getattr(components, name) is not None, name


def test_every_component_keeps_its_type_token():
    import inspect
    for name, token in TYPE_TOKENS.items():
        source = inspect.getsource(getattr(components, name).__init__)
        assert f'"{token}"' in source, f"{name} no longer registers as {token}"


def test_every_pattern_is_registered_from_its_package():
    assert set(PATTERN_MODULES) >= {"vm", "ecs", "eks", "lambda", "docker"}
    for kind, module in PATTERN_MODULES.items():
        if kind not in {"vm", "ecs", "eks", "lambda", "docker"}:
            continue
        assert module.endswith(".pattern"), f"{kind} is registered from {module}, not its package's pattern.py"
        assert load_pattern(kind).name == kind


def _keys(typed_dict) -> set[str]:
    return set(typing.get_type_hints(typed_dict))


def test_catalog_keys_of_each_pattern_are_its_component_args():
    """The stack file entry is the component's args: a pattern accepts exactly its args type's keys (the core
    spec's keys, shared by every long-running pattern, plus its own)."""
    from components.blocks.service import CORE_KEYS
    from components.docker.args import DockerServiceArgs
    from components.docker.validate import DOCKER_KEYS
    from components.ecs.args import EcsServiceArgs
    from components.ecs import ECS_KEYS
    from components.eks import K8S_KEYS, KubernetesServiceArgs
    from components.vm.args import VmServiceArgs
    from components.vm.validate import VM_KEYS
    for keys, args in ((DOCKER_KEYS, DockerServiceArgs), (ECS_KEYS, EcsServiceArgs), (K8S_KEYS, KubernetesServiceArgs),
                       (VM_KEYS, VmServiceArgs)):
        assert set(keys) | set(CORE_KEYS) == _keys(args), args.__name__


def test_lazy_exports_load_a_name_on_first_use_and_refuse_unknown_ones():
    import pytest

    import components.vm as vm
    vm.__dict__.pop("VmServiceArgs", None)
    assert "VmServiceArgs" in dir(vm) and "VmServiceArgs" not in vars(vm)
    from components.vm.args import VmServiceArgs
    assert vm.VmServiceArgs is VmServiceArgs and vars(vm)["VmServiceArgs"] is VmServiceArgs
    with pytest.raises(AttributeError, match="'components.vm' has no attribute 'VmSevrice'"):
        vm.VmSevrice  # noqa: B018
