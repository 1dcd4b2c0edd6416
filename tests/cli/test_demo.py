"""``whop-dm demo``: the bulk job against an embedded fake, with faults."""

from __future__ import annotations

import json
import re

from .conftest import command_env, run_whop_dm


def test_demo_50_adds_50_and_exits_0() -> None:
    run = run_whop_dm("demo", "--members", "50", "--json", env=command_env())
    assert run.code == 0, run.output
    summary = json.loads(run.stdout)
    assert summary["added"] == 50
    assert summary["failed"] == 0
    assert summary["skipped"] == 0
    # 48 places per channel: the creator and a host take two of the 50.
    assert summary["channels"] == 2
    # Every call is one request, plus one per retry.
    assert summary["requests"] == summary["channels"] + 50 + summary["retries"]
    assert summary["requests_per_second"] > 0


def test_demo_human_summary_without_faults_counts_no_retries() -> None:
    run = run_whop_dm("demo", "--members", "50", "--chaos", "0", env=command_env())
    assert run.code == 0, run.output
    fields = dict(
        re.findall(
            r"^(channels|added|failed|retries|held by rate limit|requests|elapsed|req/s) +(\S+)",
            run.stdout,
            re.M,
        )
    )
    assert set(fields) == {
        "channels",
        "added",
        "failed",
        "retries",
        "held by rate limit",
        "requests",
        "elapsed",
        "req/s",
    }
    assert fields["held by rate limit"] == "0.00"
    assert fields["added"] == "50"
    assert fields["failed"] == "0"
    assert fields["retries"] == "0"
    assert fields["requests"] == "52"  # 2 channels, 50 members


def test_demo_faults_are_retried() -> None:
    # The fake draws its faults from random.Random(seed) in request order: with
    # this seed and rate, some of the first requests are faulted.
    run = run_whop_dm(
        "demo", "--members", "10", "--chaos", "0.3", "--seed", "2", "--json", env=command_env()
    )
    assert run.code == 0, run.output
    summary = json.loads(run.stdout)
    assert summary["retries"] > 0
    assert summary["added"] == 10
    # The time held by the rate limit is reported (the demo's 429s ask for no wait).
    assert summary["held_s"] >= 0
