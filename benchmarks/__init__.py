"""Benchmarks for whop-dm: throughput, CPU per call, import time and memory.

Run them with ``python -m benchmarks`` (or ``nox -s bench``); ``docs/performance.md``
explains the method and holds the latest figures. This package imports nothing at
the top level, so a runner process pays only for the client it measures.
"""
