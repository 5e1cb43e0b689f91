"""Measure the AWS calls of sandbox publish → plan → apply → plan on a moto server (not a test).

    uv run python -m tests.aws.measure_calls DIR [--seasons 2010-2026] [--scale 0.02]

Prints, per command, the calls our adapters made (botocore hooks, what ``--stats`` prints) and
the requests the server saw (which add pyarrow's reads of Parquet for the DuckDB engine).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections import Counter
from pathlib import Path

from tests.aws.conftest import write_aws_config
from tests.aws.moto_counting import CountingMotoServer, create_lake_resources, quiet
from tests.e2e_helpers import cli, fast_config, free_port, simulator
from tests.text_edits import replaced


def _stats(output: str) -> dict[str, int]:
    line = next((ln for ln in output.splitlines() if ln.startswith("AWS calls: ")), "")
    return {k: int(v.replace(",", "")) for k, v in re.findall(r"([\w.]+)=([\d,]+)", line)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--seasons", default="2010-2026")
    ap.add_argument("--scale", default="0.02")
    ap.add_argument("--rate", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    quiet()
    server = CountingMotoServer()
    server.start()
    create_lake_resources(server.url)
    server.reset_counts()
    args.dir.mkdir(parents=True, exist_ok=False)
    sb = args.dir / "sb"
    port = free_port()
    base = ["--seasons", args.seasons]
    results: dict[str, dict[str, object]] = {}

    def run(name: str, argv: list[str], sim: bool = False) -> str:
        server.reset_counts()
        t0 = time.monotonic()
        if sim:
            with simulator(sb / "config.yaml", port):
                r = cli(argv)
        else:
            r = cli(argv)
        secs = time.monotonic() - t0
        assert r.exit_code == 0, r.output[-3000:]
        results[name] = {"seconds": round(secs, 1), "client": _stats(r.output), "server": server.counts()}
        print(f"{name}: {secs:.1f} s", flush=True)
        return r.output

    cfg_aws = write_aws_config(args.dir / "aws.yaml", server.url)
    into = ["--api-port", str(port), "--into-config", str(cfg_aws), "--into-profile", "aws", "--stats"]
    run("sandbox init --into-profile aws", ["sandbox", "init", str(sb), *base, "--scale", args.scale, *into])
    cfg = sb / "config.yaml"
    fast_config(cfg, rate=args.rate)
    cfg.write_text(replaced(cfg.read_text(), "max_concurrency: 3", f"max_concurrency: {args.concurrency}"))
    out = run("plan", ["plan", "--config", str(cfg), *base, "--stats", "--format", "json"])
    plan = json.loads(out[: out.rindex("}") + 1])
    results["plan"]["summary"] = plan["summary"]
    run("apply", ["apply", "--config", str(cfg), *base, "--auto-approve", "--stats"], sim=True)
    out = run("plan (after apply)", ["plan", "--config", str(cfg), *base, "--stats"])
    results["plan (after apply)"]["no_changes"] = "No changes" in out
    lake = sb / "lake"
    layers = Counter(p.relative_to(lake).parts[0] for p in lake.rglob("*") if p.is_file())
    results["lake objects before apply"] = dict(layers)
    (args.dir / "calls.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    server.stop()


if __name__ == "__main__":
    main()
