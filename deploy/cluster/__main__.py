"""`make cluster` (= python -m deploy.cluster): start the topology, print where it is, keep
it running (a process that dies is started again, as systemd would) until Ctrl-C, then stop
everything and drop the database.

    python -m deploy.cluster [--port 8443] [--fake-nlu] [--history-days 30]
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from deploy.cluster.topology import WORKER_KINDS, Cluster, Options


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m deploy.cluster", description=__doc__)
    parser.add_argument("--port", type=int, default=8443, help="haproxy's HTTPS port (0: free)")
    parser.add_argument(
        "--fake-nlu", action="store_true", help="FakeRasa processes instead of real Rasa servers"
    )
    parser.add_argument("--history-days", type=int, default=30, help="demo history to seed")
    parser.add_argument("--workdir", type=Path, default=None, help="logs and configs")
    parser.add_argument("--info-file", type=Path, default=None, help="write the JSON info here")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--no-supervise", action="store_true", help="leave a process that died dead"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="one more setting for every app process (repeatable)",
    )
    return parser.parse_args(argv)


def describe(info: dict[str, Any]) -> str:
    """What is where, for the person who started it."""
    lines = [
        "",
        f"  Phản ánh hiện trường cluster: {info['url']}/  (self-signed certificate)",
        f"  Back office: {info['url']}/bo/   IOC heatmap: {info['url']}/ioc/ban-do",
        f"  Demo logins (password {info['demo_password']}; the admin and the IOC operator are"
        " asked to set up TOTP first):",
        *[f"    {email:34} {role}" for email, role in info["demo_logins"]],
        f"  Web processes directly: {', '.join(info['web_urls'].values())}",
        f"  haproxy stats: {info['stats_url']}   NLU ({info['nlu']}): {info['nlu_url']}",
        f"  Workers: {', '.join(f'{n} [{k}]' for n, k in WORKER_KINDS.items())}",
        f"  Database: {info['database_url']}",
        f"  Logs: {info['logs']}/   E-mails sent (Maildir): {info['mailbox']}",
        "  Ctrl-C stops everything and drops the database.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Start, print, supervise until a signal, stop."""
    args = parse_args(argv)
    extra = dict(item.split("=", 1) for item in args.env)
    options = Options(
        port=args.port,
        fake_nlu=args.fake_nlu,
        history_days=args.history_days,
        workdir=args.workdir,
        keep_database=args.keep_db,
        extra_env=extra,
    )
    stopping = False

    def _stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    cluster = Cluster(options)
    try:
        cluster.start()
        info = cluster.info()
        if args.info_file:
            args.info_file.write_text(json.dumps(info, indent=2) + "\n")
        print(describe(info), flush=True)
        while True:
            time.sleep(2)
            if not args.no_supervise:
                cluster.supervise_once()
    except KeyboardInterrupt:
        print("\nstopping the cluster…", file=sys.stderr, flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leak the db
        cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
