"""Service instance per container on ECS: ``EcsCluster`` (one per stack) and ``EcsService``.

An ``ecs`` service runs on Fargate (``awsvpc``: each task has its own network interface and
security group, target type ``ip``) or on the cluster's EC2 capacity (``bridge`` networking with
dynamic host ports, target type ``instance``, bin-packed on memory so several instances of several
services share each host). Every service joins the cluster's Service Connect namespace, so the
others call it as ``http://<name>:<port>``. Besides a long-running service, two worker shapes:
``queue`` (an SQS queue with a dead-letter queue, scaled on backlog per task) and ``schedule``
(a task run by an EventBridge rule).

Modules: :mod:`.args` (args, settings, resolution), :mod:`.validate`, :mod:`.cluster`, :mod:`.service`
(with :mod:`.task` and :mod:`.worker`), :mod:`.pattern` (the registration, ``PATTERN``).
"""

from __future__ import annotations

from .args import (CAPACITIES, ECS_KEYS, FARGATE_SIZES, Ec2CapacityArgs, EcsClusterArgs, EcsServiceArgs,
                   QueueArgs)
from .cluster import EcsCluster
from .service import EcsService
from .validate import validate_ecs, validate_ecs_cluster

__all__ = [
    "CAPACITIES",
    "ECS_KEYS",
    "Ec2CapacityArgs",
    "EcsCluster",
    "EcsClusterArgs",
    "EcsService",
    "EcsServiceArgs",
    "FARGATE_SIZES",
    "QueueArgs",
    "validate_ecs",
    "validate_ecs_cluster",
]
