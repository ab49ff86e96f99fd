"""Service roles that AWS services assume on behalf of a resource are scoped to this account and resource
(``aws:SourceAccount``/``aws:SourceArn``): another account cannot make the service use them (confused deputy)."""

from __future__ import annotations

import json

from components.blocks.iam import assume_role_policy
from components.network import Network
from tests.test_ecs import _plan as plan_ecs


def test_flow_log_role_may_only_be_assumed_for_this_accounts_flow_logs(plan):
    graph = plan(lambda: Network("net", {"flow_logs": True}))
    trust = json.loads(graph.one("aws:iam/role:Role", "net-flow-logs").inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"},
                                  "ArnLike": {"aws:SourceArn": "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/*"}}


def test_ecs_task_roles_may_only_be_assumed_for_this_accounts_tasks():
    graph = plan_ecs({"cart": {"image": {"context": "services/cart"}}})
    for role in ("cart-execution", "cart-task"):
        trust = json.loads(graph.one("aws:iam/role:Role", role).inputs["assumeRolePolicy"])["Statement"][0]
        assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"},
                                      "ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"}}


def test_instance_roles_carry_no_source_conditions_ec2_does_not_set():
    # EC2 does not send aws:SourceArn/aws:SourceAccount when an instance profile's role is assumed:
    # a condition on them would lock every instance out of its credentials.
    assert "Condition" not in json.loads(assume_role_policy("ec2.amazonaws.com"))["Statement"][0]


def test_scheduled_task_role_may_only_be_assumed_by_this_accounts_eventbridge_rules():
    graph = plan_ecs({"sweeper": {"image": {"context": "services/cart"}, "schedule": "cron(0 3 * * ? *)"}})
    trust = json.loads(graph.one("aws:iam/role:Role", "sweeper-events").inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"},
                                  "ArnLike": {"aws:SourceArn": "arn:aws:events:us-east-1:123456789012:rule/*"}}
