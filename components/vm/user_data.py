"""The ``vm`` pattern's user data: the boot script that writes the service's environment and, with secrets, the
script that fetches them before every start of its systemd unit."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

__all__ = ["render_user_data"]


def _env_line(key: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{key}="{escaped}"'


def render_user_data(name: str, environment: str, port: int, env: Mapping[str, str],
                     secrets: Mapping[str, str]) -> str:
    """The boot script: writes the plain environment for the ``<name>`` systemd unit and, with secrets, a
    script the unit runs before every start (``ExecStartPre``) that fetches each secret by ARN with the
    instance role into tmpfs; then (re)starts the unit. Secret values never appear here.

    Fetching on every start, not once at first boot, matters because ``/run`` is empty again after a
    reboot or a warm pool's stop and start, and user data runs only once. A failed fetch fails the start
    (and the boot script) instead of starting the service without its secrets."""
    plain = {"PORT": str(port), "SERVICE_NAME": name, "ENVIRONMENT": environment, **env}
    lines = [
        "#!/bin/bash",
        f"# {name}: rendered by microservices:vm:VmService. Secrets are fetched at boot, never stored here.",
        "set -euo pipefail",
        f"install -d -m 0755 /etc/{name}",
        f"cat > /etc/{name}/environment <<'MICROSERVICES_ENV'",
        *[_env_line(k, plain[k]) for k in sorted(plain)],
        "MICROSERVICES_ENV",
    ]
    if secrets:
        script = f"/usr/local/libexec/{name}-secrets"
        lines += [
            "install -d -m 0755 /usr/local/libexec",
            f"cat > {script} <<'MICROSERVICES_SECRETS'",
            "#!/bin/bash",
            "set -euo pipefail",
            "fetch() {",
            '  local arn="$1" region',
            '  region="$(cut -d: -f4 <<<"$arn")"',
            '  case "$arn" in',
            '    *:ssm:*) aws ssm get-parameter --region "$region" --name "$arn" --with-decryption '
            '--query Parameter.Value --output text ;;',
            '    *) aws secretsmanager get-secret-value --region "$region" --secret-id "$arn" '
            '--query SecretString --output text ;;',
            "  esac",
            "}",
            # Escape backslashes and quotes so systemd reads the value back verbatim.
            "escape() { sed 's/[\\\\\"]/\\\\&/g'; }",
            f"install -d -m 0700 /run/{name}",
            f'tmp="$(mktemp /run/{name}/secrets.env.XXXXXX)"',
            "trap 'rm -f \"$tmp\"' EXIT",
        ]
        for key in sorted(secrets):
            # An assignment, so that a failed fetch stops the script under `set -e`.
            lines += [f"value=\"$(fetch {shlex.quote(secrets[key])})\"",
                      f"printf '%s=\"%s\"\\n' {key} \"$(escape <<<\"$value\")\" >> \"$tmp\""]
        lines += [
            f'mv -f "$tmp" /run/{name}/secrets.env',
            "trap - EXIT",
            "MICROSERVICES_SECRETS",
            f"chmod 0700 {script}",
            f"install -d -m 0755 /etc/systemd/system/{name}.service.d",
            f"cat > /etc/systemd/system/{name}.service.d/secrets.conf <<'MICROSERVICES_UNIT'",
            "[Service]",
            # '+' runs it as root although the unit runs as its own user; the unit reads the file next.
            f"ExecStartPre=+{script}",
            "MICROSERVICES_UNIT",
        ]
    lines += [
        "systemctl daemon-reload",
        f"systemctl enable {name}.service",
        f"systemctl restart {name}.service",
        "",
    ]
    return "\n".join(lines)
