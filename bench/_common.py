"""Helpers shared by the benchmarks."""

from __future__ import annotations


def rss_mib() -> float:
    """This process's resident set size now, in MiB (Linux)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0
