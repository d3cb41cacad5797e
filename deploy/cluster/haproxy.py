"""The cluster's haproxy: Debian's binary, run with a variant of the production config
(`deploy/haproxy.cfg`) in which only the addresses change.

The production file is read and rewritten line by line: its public `bind :80` becomes TLS on
127.0.0.1 (a self-signed certificate made here, so the production cookie flags hold), the NLU
frontend's `bind :5005` a local port, and each backend's `server` lines the cluster's
processes with the options of the production file's first server. Everything else (the
health checks, the retries, the refusal of /metrics, the request ids, the log format) is the
production file's own, so the proof exercises the config that ships.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_CFG = ROOT / "deploy" / "haproxy.cfg"
DEBIAN_BINARY = "/usr/sbin/haproxy"


def binary() -> str:
    """Debian's haproxy, installed with apt-get when missing (as ensure-services does chromium)."""
    found = DEBIAN_BINARY if os.access(DEBIAN_BINARY, os.X_OK) else shutil.which("haproxy")
    if found:
        return found
    print("Installing Debian's haproxy for the cluster…", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "haproxy"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    found = DEBIAN_BINARY if os.access(DEBIAN_BINARY, os.X_OK) else shutil.which("haproxy")
    if not found:
        raise RuntimeError("haproxy is not installed and apt-get could not install it")
    return found


def self_signed_pem(path: Path) -> Path:
    """A certificate for 127.0.0.1/localhost and its key in one PEM file, as haproxy reads it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "phananh cluster 127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    alt = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(alt, critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    return path


def render(
    *,
    public_port: int,
    nlu_port: int,
    stats_port: int,
    pem: Path,
    servers: Mapping[str, Sequence[tuple[str, int]]],
    production: str | None = None,
) -> str:
    """The production config with the cluster's addresses.

    `servers`: backend name → (server name, port on 127.0.0.1), e.g. {"web": [("web1", 5001)]}.
    """
    text = production if production is not None else PRODUCTION_CFG.read_text(encoding="utf-8")
    out: list[str] = []
    section, written = "", set()
    for line in text.splitlines():
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if line and not line[0].isspace():
            section = stripped
        if stripped == "bind :80":
            out.append(f"{indent}bind 127.0.0.1:{public_port} ssl crt {pem}")
            continue
        if stripped.startswith("# bind :443"):
            continue
        if stripped == "bind :5005":
            out.append(f"{indent}bind 127.0.0.1:{nlu_port}")
            continue
        if stripped.startswith("server ") and section.startswith("backend "):
            backend = section.split()[1]
            if backend not in servers:
                raise ValueError(f"no cluster servers for haproxy backend {backend!r}")
            if backend not in written:
                options = " ".join(stripped.split()[3:])
                for name, port in servers[backend]:
                    out.append(f"{indent}server {name} 127.0.0.1:{port} {options}".rstrip())
                written.add(backend)
            continue
        out.append(line)
    missing = set(servers) - written
    if missing:
        raise ValueError(f"haproxy.cfg has no backend for {sorted(missing)}")
    out += [
        "",
        "# The cluster only: server states for people and for the tests (CSV at /;csv).",
        "listen stats",
        f"    bind 127.0.0.1:{stats_port}",
        "    stats enable",
        "    stats uri /",
        "    stats refresh 5s",
        "",
    ]
    return "\n".join(out)


def check(config: Path) -> None:
    """`haproxy -c`: the generated config is valid for this haproxy."""
    result = subprocess.run(
        [binary(), "-c", "-q", "-f", str(config)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"haproxy refused {config}: {result.stdout}{result.stderr}")


def command(config: Path) -> list[str]:
    """haproxy in the foreground (-db), logging to its stdout as the config says."""
    return [binary(), "-db", "-f", str(config)]


def server_states(stats_url: str) -> dict[str, str]:
    """States by "backend/server": UP, DOWN, MAINT… from the stats page's CSV."""
    import httpx

    rows = httpx.get(f"{stats_url};csv", timeout=3).text.splitlines()
    header = rows[0].lstrip("# ").split(",")
    states = {}
    for row in rows[1:]:
        values = dict(zip(header, row.split(","), strict=False))
        if values.get("svname") not in ("FRONTEND", "BACKEND", None):
            states[f"{values['pxname']}/{values['svname']}"] = values.get("status", "")
    return states
