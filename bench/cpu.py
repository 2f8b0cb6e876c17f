"""CPU seconds per process group, read with psutil, for "CPU ms per unit of work" figures.

A :class:`CpuMeter` knows the stack's processes (each service with its worker processes, the
stack's own nats-server), the PostgreSQL backends serving the stack's database (found in
``pg_stat_activity``; the server's shared background processes are left out, since other
databases on the same server use them too) and the load client (this process). ``snapshot``
reads user + system CPU seconds of each; ``spent`` is the difference of two snapshots by group.
A backend that exits between two snapshots loses what it spent since the first one; the stack's
pools keep their connections, so that is rare.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import asyncpg
import psutil

Groups = dict[str, float]
CLIENT = "client"
POSTGRES = "postgres"


class CpuMeter:
    def __init__(self, pids: Callable[[], dict[str, list[int]]], dsn: str, database: str) -> None:
        self._pids = pids
        self._dsn = dsn
        self._database = database
        self._known: dict[int, psutil.Process] = {}

    def _process(self, pid: int) -> psutil.Process | None:
        proc = self._known.get(pid)
        if proc is None:
            try:
                proc = self._known[pid] = psutil.Process(pid)
            except psutil.NoSuchProcess:
                return None
        return proc

    def _seconds(self, pid: int) -> float:
        proc = self._process(pid)
        if proc is None:
            return 0.0
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            return 0.0
        return float(times.user + times.system)

    async def backends(self) -> list[int]:
        """The PostgreSQL backends connected to the stack's database, this meter's excluded."""
        conn = await asyncpg.connect(self._dsn)
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                self._database,
            )
        finally:
            await conn.close()
        return [int(r["pid"]) for r in rows]

    async def snapshot(self) -> dict[str, dict[int, float]]:
        """CPU seconds so far of every process, by group and pid."""
        groups = {**self._pids(), POSTGRES: await self.backends(), CLIENT: [os.getpid()]}
        return {name: {pid: self._seconds(pid) for pid in pids} for name, pids in groups.items()}

    @staticmethod
    def spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> Groups:
        """CPU seconds each group spent between two snapshots (new processes count from 0)."""
        out: Groups = {}
        for name, pids in after.items():
            was = before.get(name, {})
            out[name] = sum(max(0.0, s - was.get(pid, 0.0)) for pid, s in pids.items())
        return out


def servers_total(spent: Groups) -> float:
    """CPU seconds of everything but the load client."""
    return sum(v for k, v in spent.items() if k != CLIENT)
