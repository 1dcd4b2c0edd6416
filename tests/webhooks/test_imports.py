"""What importing costs: whop_dm leaves webhooks out, webhooks leaves redis out."""

from __future__ import annotations

import subprocess
import sys


def loaded_after(statement: str, modules: tuple[str, ...]) -> list[str]:
    probe = f"import sys; {statement}; print([m for m in {modules!r} if m in sys.modules])"
    completed = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return eval(completed.stdout)  # type: ignore[no-any-return]  # noqa: S307 - our own print


def test_import_whop_dm_does_not_load_the_webhooks_package() -> None:
    assert loaded_after("import whop_dm", ("whop_dm.webhooks", "aiohttp.web")) == []


def test_the_webhooks_package_does_not_load_redis_or_the_fake() -> None:
    assert loaded_after("import whop_dm.webhooks", ("redis", "whop_dm.testing")) == []
