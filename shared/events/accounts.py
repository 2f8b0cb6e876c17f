"""Events of accounts, published by the gateway through its outbox."""

from __future__ import annotations

from shared.events.base import Event


class UserDeletedV1(Event):
    """A user deleted their account; every service deletes what it holds of ``user_id``.

    The gateway has already deleted the account's ``core`` rows in the transaction that staged
    this event, so the old access token answers 401 from then on. Consumers are idempotent: a
    redelivered event deletes nothing more.
    """

    subject = "accounts.user.deleted.v1"


ACCOUNT_EVENTS: tuple[type[Event], ...] = (UserDeletedV1,)
