"""Delivering a due reminder: live to open SSE streams, and by push to registered devices.

Runs on ``reminders.reminder.fired.v1`` (one gateway instance takes each event: a durable
consumer). The live notification goes out on core NATS ``live.notifications.<user_id>``, which
every instance's ``GET /v1/notifications`` stream listens to; pushes go through the configured
:class:`~services.gateway.reminders.push.PushAdapter`. A push failure is logged, not retried, so
a redelivered event never sends the SSE notification twice for a flaky push service.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from faststream.nats import NatsBroker

from services.gateway.reminders.push import PushAdapter, PushMessage, PushTarget
from shared.contracts.learning import live_notifications
from shared.contracts.reminders import ReminderNotificationOut
from shared.events.reminders import ReminderFiredV1


def notification_of(event: ReminderFiredV1) -> ReminderNotificationOut:
    return ReminderNotificationOut(
        id=event.event_id,
        reminder_id=event.reminder_id,
        habit_id=event.habit_id,
        habit_title=event.habit_title,
        message=event.message,
        local_date=event.local_date,
        local_time=event.local_time,
        fire_at=event.fire_at,
    )


async def publish_live(broker: NatsBroker, event: ReminderFiredV1) -> None:
    await broker.publish(
        notification_of(event).model_dump_json().encode(),
        subject=live_notifications(event.user_id),
        headers={"content-type": "application/json"},
    )


async def push_all(
    adapter: PushAdapter,
    event: ReminderFiredV1,
    targets: Sequence[PushTarget],
    forget: Callable[[list[str]], Awaitable[None]],
) -> int:
    """Push the reminder to every target; forget the ones the push service says are gone."""
    note = notification_of(event)
    message = PushMessage(
        title=event.habit_title or "Habyss",
        body=event.message,
        data=note.model_dump(mode="json"),
    )
    outcomes = await asyncio.gather(*(adapter.send(t, message) for t in targets))
    gone = [t.endpoint for t, o in zip(targets, outcomes, strict=True) if o == "gone"]
    if gone:
        await forget(gone)
    return sum(1 for o in outcomes if o == "sent")
