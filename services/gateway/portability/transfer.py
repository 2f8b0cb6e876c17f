"""Use cases of data in and out: the Loop import, the full export, deleting the account.

An import runs in the caller's one transaction: every habit, log and event of the file, or none
(a bad row anywhere raises before anything commits). Habits and logs go through the same use
cases as the API (``habits.create_habit``, ``habits.write_log``), so their events reach the outbox
and metrics recompute. Each created entity is remembered under a stable key (``import_refs``):
a Loop habit by its name, a log by habit and date; importing the same file again creates nothing.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import habits, repository
from services.gateway.health.errors import InvalidExport
from services.gateway.portability import loop_csv
from services.gateway.portability import repository as store
from services.gateway.portability.archive import LoopFiles
from services.gateway.schemas import HabitIn
from shared.db.base import utcnow
from shared.db.core import User
from shared.db.erasure import erase_user
from shared.events.accounts import UserDeletedV1

SOURCE = "loop"


def _habit_key(name: str) -> str:
    return "habit:" + name.casefold()


async def import_loop(
    session: AsyncSession, user: User, files: LoopFiles, today: date, *, max_habits: int
) -> dict[str, Any]:
    """Apply a Loop export to the user's habits and logs; return the report."""
    try:
        rows = loop_csv.read_habits(files.habits)
        plans = []
        for row in rows:
            if row.body is None:
                continue
            file, text = files.checkmarks.get(row.position or -1, ("", ""))
            marks = loop_csv.read_checkmarks(text, file) if file else []
            plans.append(loop_csv.plan_logs(row, marks, file, today))
    except loop_csv.LoopFormatError as exc:
        raise InvalidExport(exc.message, details=exc.details) from None
    report: dict[str, Any] = {
        "habits": {"created": 0, "existing": 0, "skipped": 0},
        "logs": {"created": 0, "existing": 0, "implicit": 0, "skipped": 0},
        "mapped": [],
        "skipped": [],
        "ignored_files": files.ignored,
    }
    for row in rows:
        if row.body is None:
            report["skipped"].append(
                {"file": "Habits.csv", "line": row.row, "name": row.name, "reason": row.skip_reason}
            )
    await store.lock_user_imports(session, user.id)
    refs = await store.import_refs(session, user.id, SOURCE)
    live = {h.title.casefold(): h for h in await repository.habits_of(session, user.id)}
    seen: set[str] = set()
    positions = {r.position for r in rows}
    for position, (file, _) in sorted(files.checkmarks.items()):
        if position not in positions:
            report["skipped"].append({"file": file, "reason": "no habit at this position"})
    for plan in plans:
        row, body = plan.habit, plan.habit.body
        assert body is not None
        key = _habit_key(row.name)
        if key in seen:
            report["habits"]["skipped"] += 1
            report["skipped"].append(
                {
                    "file": "Habits.csv",
                    "line": row.row,
                    "name": row.name,
                    "reason": "a duplicate name",
                }
            )
            continue
        seen.add(key)
        habit_id = refs.get(key)
        habit = None
        if habit_id is not None:
            habit = await store.any_habit_of(session, user.id, habit_id)
        if habit is None:
            # A habit of the same title and kind made in Habyss (or a re-imported export).
            same = live.get(body["title"].casefold())
            habit = same if same is not None and same.kind == body["kind"] else None
        if habit is None:
            first = min((log.day for log in plan.logs), default=today)
            try:
                data = HabitIn.model_validate({**body, "start_date": min(first, today)})
            except ValidationError as exc:
                reason = exc.errors()[0]["msg"]
                report["habits"]["skipped"] += 1
                report["skipped"].append(
                    {"file": "Habits.csv", "line": row.row, "name": row.name, "reason": reason}
                )
                continue
            created = await habits.create_habit(session, user, data, today, max_habits=max_habits)
            habit = await habits.owned_habit(session, user.id, created.id)
            report["habits"]["created"] += 1
            status = "created"
        else:
            report["habits"]["existing"] += 1
            status = "existing"
        await store.add_import_ref(session, user.id, SOURCE, key, habit.id)
        logged = await store.logged_dates(session, habit.id)
        fresh: list[loop_csv.LogPlan] = []
        for log in plan.logs:
            if log.day in logged:
                report["logs"]["existing"] += 1
            elif log.status == "done" and (log.value is None) != (habit.kind != "quantity"):
                plan.skipped.append({"date": log.day.isoformat(), "reason": "kind mismatch"})
            elif log.day < habit.start_date:
                plan.skipped.append(
                    {"date": log.day.isoformat(), "reason": "before the habit's start date"}
                )
            else:
                fresh.append(log)
        ids = await habits.write_logs(
            session,
            habit,
            user,
            [(log.day, log.value, log.status, log.note) for log in fresh],
            source="import",
        )
        await store.add_import_refs(
            session,
            user.id,
            SOURCE,
            {f"log:{key}:{log.day}": log_id for log, log_id in zip(fresh, ids, strict=True)},
        )
        created_logs = len(ids)
        if row.archived and habit.archived_at is None:
            await habits.archive_habit(session, user, habit.id, utcnow())
        report["logs"]["created"] += created_logs
        report["logs"]["implicit"] += plan.implicit
        report["logs"]["skipped"] += len(plan.skipped)
        report["skipped"] += [{"name": row.name, **s} for s in plan.skipped]
        report["mapped"].append(
            {
                "name": row.name,
                "habit_id": str(habit.id),
                "status": status,
                "kind": habit.kind,
                "schedule": habit.schedule,
                "logs_created": created_logs,
            }
        )
    report["habits"]["skipped"] += sum(1 for r in rows if r.body is None)
    return report


async def export_zip(session: AsyncSession, user: User) -> bytes:
    """A zip of Loop-layout CSVs (boolean and quantity habits) and ``habyss.json`` (everything)."""
    owned = await store.all_habits_of(session, user.id)
    loggable = [h for h in owned if h.kind in ("boolean", "quantity")]
    logs: dict[uuid.UUID, list[tuple[date, str, float | None, str | None]]] = {}
    for habit_id, day, status, value, note in await store.all_logs(session, user.id):
        logs.setdefault(habit_id, []).append((day, status, value, note))
    bodies = [
        {
            "title": h.title,
            "description": h.description,
            "kind": h.kind,
            "schedule": h.schedule,
            "target": h.target,
            "archived": h.archived_at is not None,
        }
        for h in loggable
    ]
    dump = {
        "format": "habyss-export",
        "version": 1,
        "exported_at": utcnow().isoformat(),
        "user_id": str(user.id),
        "tables": await store.dump_user(session, user.id),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Habits.csv", loop_csv.write_habits(bodies))
        for position, habit in enumerate(loggable, start=1):
            folder = loop_csv.folder_name(position, habit.title)
            archive.writestr(
                f"{folder}/Checkmarks.csv",
                loop_csv.write_checkmarks(habit.kind, logs.get(habit.id, [])),
            )
        archive.writestr("habyss.json", json.dumps(dump, indent=1, sort_keys=True, default=str))
    return buffer.getvalue()


async def delete_account(session: AsyncSession, user: User) -> None:
    """Delete every ``core`` row of the user and stage ``accounts.user.deleted.v1``.

    The other services delete their own rows when the event reaches them.
    """
    await store.lock_user(session, user.id, exclusive=True)
    await erase_user(session, "core", user.id)
    await store.delete_user(session, user.id)
    repository.add_outbox_event(session, UserDeletedV1(user_id=user.id))
