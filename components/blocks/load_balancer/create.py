"""What a load balancer of its own is made of: the load balancer, its security group (the listener ports open to
``allowed_cidrs`` only), its listeners, its access-log bucket in prod, its certificate and alias record with a
``domain``; and the service security group its targets sit in."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ...profiles import Profile
from ..certificate import alias_record, dns_validated_certificate, hosted_zone_id
from .args import HTTP, HTTPS, LoadBalancerSettings

__all__ = ["ELB_LOG_ACCOUNTS", "Frontend", "Listeners", "access_log_bucket", "create_load_balancer",
           "elb_account_principal", "network_value", "service_security_group"]


def network_value(network: Any, key: str) -> Any:
    """``network.<key>`` of a :class:`~components.Network` or a dict with the same keys."""
    if network is None:
        raise ValueError(f"a network is required (pass network=Network(...) or a dict with {key})")
    if isinstance(network, Mapping):
        if key not in network:
            raise ValueError(f"network: missing {key!r}")
        return network[key]
    return getattr(network, key)


def service_security_group(name: str, *, vpc_id: pulumi.Input[str], tags: Mapping[str, str],
                           opts: pulumi.ResourceOptions | None = None) -> aws.ec2.SecurityGroup:
    """The security group of a service's instances or tasks: no ingress until a load balancer admits
    itself (:class:`ServiceLoadBalancer` with ``target_security_group_id``); all egress, because services
    reach AWS APIs, package mirrors and their own dependencies through NAT or VPC endpoints."""
    sg = aws.ec2.SecurityGroup(f"{name}-sg", vpc_id=vpc_id, description=f"{name} instances or tasks",
                               tags={**tags, "Name": f"{name}-sg"}, opts=opts)
    aws.vpc.SecurityGroupEgressRule(f"{name}-sg-egress", security_group_id=sg.id, ip_protocol="-1",
                                    cidr_ipv4="0.0.0.0/0", description="outbound", tags=dict(tags), opts=opts)
    return sg


def access_log_bucket(name: str, profile: Profile, *, tags: Mapping[str, str], prefix: str = "",
                      opts: pulumi.ResourceOptions | None = None) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
    """An S3 bucket for load balancer access logs: private, owner-enforced, SSE-S3 (the only encryption
    ELB log delivery supports), expiring after the profile's log retention, protected in prod.
    ``prefix`` must be the load balancer's ``access_logs.prefix``: ELB writes under
    ``<prefix>/AWSLogs/<account>/`` and the policy grants exactly that."""
    protected = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=profile.protect))
    bucket = aws.s3.Bucket(f"{name}-logs", force_destroy=not profile.protect, tags=dict(tags), opts=protected)
    aws.s3.BucketPublicAccessBlock(f"{name}-logs", bucket=bucket.id, block_public_acls=True,
                                   block_public_policy=True, ignore_public_acls=True,
                                   restrict_public_buckets=True, opts=opts)
    aws.s3.BucketOwnershipControls(f"{name}-logs", bucket=bucket.id,
                                   rule={"object_ownership": "BucketOwnerEnforced"}, opts=opts)
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-logs", bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}], opts=opts)
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-logs", bucket=bucket.id,
        rules=[{"id": "expire", "status": "Enabled", "filter": {},
                "expiration": {"days": profile.log_retention_days},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 1}}], opts=opts)
    invoke = pulumi.InvokeOutputOptions(parent=opts.parent if opts else None)
    account = aws.get_caller_identity_output(opts=invoke).account_id
    # Not aws.elb.get_service_account: it fails with "Unknown region" in regions opened since August 2022.
    region = aws.get_region_output(opts=invoke).region
    objects = pulumi.Output.concat(bucket.arn, f"/{prefix}" if prefix else "", "/AWSLogs/", account, "/*")
    policy_json = pulumi.Output.all(objects, bucket.arn, region).apply(
        lambda a: _log_policy(a[0], a[1], elb_account_principal(a[2], a[1])))
    policy = aws.s3.BucketPolicy(f"{name}-logs", bucket=bucket.id, policy=policy_json, opts=opts)
    return bucket, policy


#: The regional Elastic Load Balancing accounts that deliver access logs in regions opened before
#: August 2022 (ELB user guide, "Attach a policy to your S3 bucket"). Newer regions deliver as the
#: ``logdelivery.elasticloadbalancing.amazonaws.com`` service principal, which the policy always grants.
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580", "ap-south-1": "718504428378", "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864", "ca-central-1": "985666609251", "eu-central-1": "054676820928",
    "eu-west-1": "156460612806", "eu-west-2": "652711504416", "eu-south-1": "635631232127",
    "eu-west-3": "009996457667", "eu-north-1": "897822967062", "me-south-1": "076674570225",
    "sa-east-1": "507241528517", "us-gov-west-1": "048591011584", "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993", "cn-northwest-1": "037604701340",
}


def elb_account_principal(region: str | None, bucket_arn: str) -> str | None:
    """ARN of the ELB account delivering access logs in ``region``, or None in newer regions."""
    account = ELB_LOG_ACCOUNTS.get(region or "")
    if account is None:
        return None
    partition = bucket_arn.split(":")[1] if bucket_arn and bucket_arn.count(":") >= 2 else "aws"
    return f"arn:{partition}:iam::{account}:root"


def _log_policy(objects: str, bucket_arn: str, elb_account: str | None) -> str:
    statements = [
        {"Sid": "ElbLogDelivery", "Effect": "Allow", "Action": "s3:PutObject", "Resource": objects,
         "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}},
        {"Sid": "LogDeliveryWrite", "Effect": "Allow", "Action": "s3:PutObject", "Resource": objects,
         "Principal": {"Service": "delivery.logs.amazonaws.com"}},
        {"Sid": "LogDeliveryAclCheck", "Effect": "Allow", "Action": "s3:GetBucketAcl", "Resource": bucket_arn,
         "Principal": {"Service": "delivery.logs.amazonaws.com"}},
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Action": "s3:*", "Principal": "*",
         "Resource": [bucket_arn, f"{bucket_arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]
    if elb_account:
        statements.insert(0, {"Sid": "ElbAccountDelivery", "Effect": "Allow", "Action": "s3:PutObject",
                              "Resource": objects, "Principal": {"AWS": elb_account}})
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def _cidr_key(cidr: Any, index: int) -> str:
    """``10.0.0.0-16`` for ``10.0.0.0/16``; the position only for a CIDR not known yet."""
    return cidr.replace("/", "-") if isinstance(cidr, str) else str(index)


@dataclass(frozen=True)
class Frontend:
    """What a load balancer of its own is built from: its name (children are named ``<name>-lb``, ...), its
    settings, where it is exposed, the profile (access logs, deletion protection) and its tags."""

    name: str
    settings: LoadBalancerSettings
    expose: str
    profile: Profile
    tags: Mapping[str, str]
    subnet_ids: pulumi.Input[Sequence[str]] | None = None
    """Where it sits. Default: the network's public subnets (``expose: public``) or private ones."""
    admit_cidrs: bool = True
    """False: the listener admits no CIDR at all (not even the VPC's); the owner adds the security-group rules
    of its own sources, as the gateway admits only its VPC link."""

    @property
    def public(self) -> bool:
        return self.expose == "public"


@dataclass
class Listeners:
    """What a load balancer hands to the services behind it."""

    main: aws.lb.Listener
    """The listener rules and default actions forward from (HTTPS/TLS when there is a certificate)."""
    all: list[aws.lb.Listener] = field(default_factory=list)


def create_load_balancer(owner: pulumi.Resource, front: Frontend, network: Any,
                         default_action: Mapping[str, Any] | pulumi.Output
                         ) -> tuple[aws.lb.LoadBalancer, aws.ec2.SecurityGroup, Listeners]:
    """A load balancer, its security group and listeners, all children of ``owner``."""
    child = pulumi.ResourceOptions(parent=owner)
    name, settings = front.name, front.settings
    zone_id = hosted_zone_id(settings.zone, child) if settings.domain is not None else None
    cert = settings.certificate_arn if settings.domain is None else \
        dns_validated_certificate(name, domain=settings.domain, zone=zone_id, tags=front.tags, opts=child)
    sg = _security_group(front, network, has_cert=cert is not None, opts=child)
    subnets = front.subnet_ids if front.subnet_ids is not None else \
        network_value(network, "public_subnet_ids" if front.public else "private_subnet_ids")
    access_logs, lb_opts = _access_logs(owner, front)
    lb_kwargs: dict[str, Any] = {}
    if settings.type == "alb":
        lb_kwargs.update(drop_invalid_header_fields=True, idle_timeout=settings.idle_timeout,
                         desync_mitigation_mode="defensive")
    else:
        lb_kwargs.update(enable_cross_zone_load_balancing=True)
    lb = aws.lb.LoadBalancer(
        f"{name}-lb", load_balancer_type="application" if settings.type == "alb" else "network",
        internal=not front.public, subnets=subnets, security_groups=[sg.id],
        enable_deletion_protection=front.profile.deletion_protection, access_logs=access_logs,
        tags={**front.tags, "Name": f"{name}-lb"}, opts=lb_opts, **lb_kwargs)
    if settings.domain is not None:
        alias_record(name, domain=settings.domain, zone=zone_id, target_dns_name=lb.dns_name,
                     target_zone_id=lb.zone_id, opts=child)
    return lb, sg, _create_listeners(front, lb, cert=cert, opts=child, default_action=default_action)


def _security_group(front: Frontend, network: Any, *, has_cert: bool,
                    opts: pulumi.ResourceOptions) -> aws.ec2.SecurityGroup:
    """The load balancer's security group: its listener ports open to ``allowed_cidrs``, else anywhere
    (public) or the VPC (internal)."""
    name, tags, lb_type = front.name, front.tags, front.settings.type
    ports = [HTTP, HTTPS] if has_cert and lb_type == "alb" else [HTTPS] if has_cert else [HTTP]
    sg = aws.ec2.SecurityGroup(f"{name}-lb-sg", vpc_id=network_value(network, "vpc_id"),
                               description=f"{name} load balancer", tags={**tags, "Name": f"{name}-lb-sg"}, opts=opts)
    cidrs = front.settings.allowed_cidrs
    # Rules are named after their CIDR, not its position: adding a CIDR to the front of the list must not
    # rewrite every other rule (and collide with the one still holding the same CIDR).
    sources = ({} if not front.admit_cidrs else {_cidr_key(c, i): c for i, c in enumerate(cidrs)} if cidrs
               else {"any": "0.0.0.0/0"} if front.public else {"vpc": network_value(network, "vpc_cidr")})
    for port in ports:
        for key, cidr in sources.items():
            aws.vpc.SecurityGroupIngressRule(f"{name}-lb-{port}-{key}", security_group_id=sg.id, ip_protocol="tcp",
                                             from_port=port, to_port=port, cidr_ipv4=cidr,
                                             description=f"listener {port}", tags=dict(tags), opts=opts)
    return sg


def _access_logs(owner: pulumi.Resource, front: Frontend) -> tuple[dict[str, Any] | None, pulumi.ResourceOptions]:
    """The load balancer's ``access_logs`` (when the profile keeps them) and its options."""
    child = pulumi.ResourceOptions(parent=owner)
    if not front.profile.access_logs:
        return None, child
    name = front.name
    bucket, policy = access_log_bucket(f"{name}-lb", front.profile, tags=front.tags, prefix=name, opts=child)
    # ELB checks it can write to the bucket when access logs are switched on.
    return ({"bucket": bucket.bucket, "enabled": True, "prefix": name},
            pulumi.ResourceOptions(parent=owner, depends_on=[policy]))


def _create_listeners(front: Frontend, lb: aws.lb.LoadBalancer, *, cert: pulumi.Input[str] | None,
                      opts: pulumi.ResourceOptions, default_action: Mapping[str, Any] | pulumi.Output) -> Listeners:
    """The listeners of ``lb``: with a certificate, HTTPS (ALB) or TLS (NLB) on 443, and an ALB's port 80
    only redirecting to HTTPS; without, plain HTTP (ALB) or TCP (NLB) on 80."""
    child, name, tags = opts, front.name, front.tags
    listeners: list[aws.lb.Listener] = []
    ssl_policy = front.settings.ssl_policy
    if front.settings.type == "alb":
        if cert is not None:
            main = aws.lb.Listener(f"{name}-https", load_balancer_arn=lb.arn, port=HTTPS, protocol="HTTPS",
                                   certificate_arn=cert, ssl_policy=ssl_policy, default_actions=[default_action],
                                   tags=dict(tags), opts=child)
            redirect = aws.lb.Listener(
                f"{name}-http", load_balancer_arn=lb.arn, port=HTTP, protocol="HTTP",
                default_actions=[{"type": "redirect",
                                  "redirect": {"port": str(HTTPS), "protocol": "HTTPS", "status_code": "HTTP_301"}}],
                tags=dict(tags), opts=child)
            listeners = [main, redirect]
        else:
            main = aws.lb.Listener(f"{name}-http", load_balancer_arn=lb.arn, port=HTTP, protocol="HTTP",
                                   default_actions=[default_action], tags=dict(tags), opts=child)
            listeners = [main]
    else:
        if cert is not None:
            main = aws.lb.Listener(f"{name}-tls", load_balancer_arn=lb.arn, port=HTTPS, protocol="TLS",
                                   certificate_arn=cert, ssl_policy=ssl_policy, default_actions=[default_action],
                                   tags=dict(tags), opts=child)
        else:
            main = aws.lb.Listener(f"{name}-tcp", load_balancer_arn=lb.arn, port=HTTP, protocol="TCP",
                                   default_actions=[default_action], tags=dict(tags), opts=child)
        listeners = [main]
    return Listeners(main=main, all=listeners)
