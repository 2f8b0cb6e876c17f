"""The agent service's chat turns: run them, stream them, keep the conversation's memory.

Conversation reads live in :mod:`services.agent.conversations` and habit sequences in
:mod:`services.agent.sequence_service`; :class:`AgentService` holds both for the handlers.

**A chat turn** (``chat.turn.requested.v1``, one agent instance takes each):

1. *Claim*: the turn row is inserted as ``running`` with the user's message, in one transaction.
   A redelivered turn finds its row: a finished one re-publishes its ``chat.turn.completed.v1``
   (same event id, so JetStream drops the copy); a ``running`` one belonged to an instance that
   died mid-turn and is ended as failed instead of run again, because its tools may already
   have written habits.
2. ``run.started`` goes out on ``live.chat.<turn_id>`` at once; then the context is gathered
   (habits, streaks, preferences, plans, facts, the conversation's summary and latest messages).
3. The loop runs; every event except the terminal one is streamed live as it happens.
4. *Finish*: the assistant message (tool calls, cards, tokens), the understanding of the user's
   message, new long-term facts and the folded summary commit in one transaction; then the
   terminal event goes live and ``chat.turn.completed.v1`` is published. A client that went
   away changes nothing: the turn runs to the end either way.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from faststream.nats import NatsBroker
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.agent import phases, repository
from services.agent.agency import permitted_tools
from services.agent.backend import Habit
from services.agent.bus_backend import BusBackend
from services.agent.config import AgentSettings
from services.agent.conversations import ConversationReads, stored
from services.agent.live import LiveStream
from services.agent.loop import (
    Budgets,
    CardEvent,
    RunCompleted,
    RunFailed,
    RunStarted,
    ToolCallCompleted,
    ToolCallStarted,
    run_agent,
)
from services.agent.memory import (
    HabitStatus,
    facts_from,
    fold_summary,
    merge_facts,
    model_history,
    render_context,
    split_window,
)
from services.agent.models import (
    Message,
    Model,
    ModelSettings,
    OpenAIProvider,
    SystemMessage,
    UserMessage,
    system_prompt,
)
from services.agent.nlu.clarify import needs_clarifying
from services.agent.offline import OfflinePlanner
from services.agent.offline_fallback import OfflineFallback
from services.agent.sequence_service import SequenceService
from services.agent.sequences import HabitSequencePlan
from services.agent.tone import AIPreferences, choose_tone
from services.agent.tools import ToolContext
from services.agent.understanding import Understanding, understand
from shared.contracts import learning as learning_rpc
from shared.contracts import metrics as metrics_rpc
from shared.db.agent import Conversation
from shared.db.erasure import erase_user
from shared.errors import HabyssError
from shared.events.chat import ChatTurnCompletedV1, ChatTurnRequestedV1
from shared.messaging import publish_event
from shared.rpc import call

log = logging.getLogger(__name__)

# Context reads are best effort: a slow service must not hold up the reply for long.
CONTEXT_TIMEOUT_SECONDS = 1.5
CONTEXT_HABITS = 8
# A turn still "running" this long past its deadline was dropped by an instance that died.
TURN_GRACE_SECONDS = 30.0
TITLE_CHARS = 60
INTERRUPTED = (
    "Sorry, I was interrupted before I could finish that reply. Please send your message again."
)
FAILED = "Sorry, something went wrong on my side while answering. Please try again."
EXPIRED = "Sorry, that message waited too long to be answered. Please send it again."


def utcnow() -> datetime:
    return datetime.now(UTC)


def _title(message: str) -> str:
    flat = " ".join(message.split())
    return flat if len(flat) <= TITLE_CHARS else flat[: TITLE_CHARS - 1].rstrip() + "…"


def _entities(u: Understanding) -> dict[str, Any]:
    data = u.model_dump(
        mode="json",
        exclude={"message", "intent", "confidence", "sentiment"},
        exclude_defaults=True,
    )
    return dict(data)


def _terminal(completed: ChatTurnCompletedV1, text: str) -> dict[str, Any]:
    """The live terminal event of a stored turn (for a replay or a turn ended without a run)."""
    run_id = str(completed.turn_id)
    if completed.status == "failed":
        return RunFailed(run_id=run_id, code=completed.stop_reason, message=text).model_dump()
    return RunCompleted.model_validate(
        {
            "run_id": run_id,
            "text": text,
            "stop_reason": completed.stop_reason,
            "turns": 0,
            "tool_calls": len(completed.tools),
            "tokens": completed.tokens,
        }
    ).model_dump()


def _preferences(data: Any) -> AIPreferences | None:
    try:
        p = learning_rpc.PreferencesOut.model_validate(data)
        return AIPreferences(
            communication_style=p.communication_style,
            detail_level=p.detail_level,
            emoji_preference=p.emoji_preference,
        )
    except ValidationError:
        return None


class AgentService:
    """Chat turns, with the conversation reads and habit sequences the handlers also serve."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: NatsBroker,
        settings: AgentSettings,
        *,
        model: Model | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.broker = broker
        self.settings = settings
        self.clock = clock
        self.now = now
        self.reads = ConversationReads(sessions)
        self.sequences = SequenceService(sessions, broker, now)
        self.model_settings = ModelSettings(
            model=settings.llm_model,
            fallback_model=settings.llm_fallback_model,
            temperature=settings.llm_temperature,
            max_tokens=settings.llm_max_tokens,
            top_p=settings.llm_top_p,
            frequency_penalty=settings.llm_frequency_penalty,
            presence_penalty=settings.llm_presence_penalty,
            max_retries=settings.llm_max_retries,
        )
        self.budgets = Budgets(
            max_turns=settings.turn_max_model_calls,
            max_tool_calls=settings.turn_max_tool_calls,
            max_tokens=settings.turn_max_tokens,
            deadline_seconds=settings.turn_deadline_seconds,
        )
        # A fixed model (tests inject a scripted one); otherwise per turn: OpenAI or offline.
        self._model = model
        if model is None and settings.uses_openai:
            self._model = OpenAIProvider(
                api_key=settings.openai_api_key or "not-needed",
                base_url=settings.openai_base_url,
                timeout=settings.llm_timeout_seconds,
            )

    async def aclose(self) -> None:
        """Release the model's connections (the OpenAI provider holds an HTTP pool)."""
        if isinstance(self._model, OpenAIProvider):
            await self._model.aclose()

    # --- chat turns -------------------------------------------------------------------------

    async def run_turn(self, event: ChatTurnRequestedV1) -> None:
        """Run one chat turn to its end (see the module docstring); safe to redeliver."""
        turn_id, user_id = event.event_id, event.user_id
        live = LiveStream(self.broker, turn_id)
        # At once, before any database work: the client sees the turn is taken. A redelivery
        # sends it again; the gateway ignores a second one.
        await live.send(RunStarted(run_id=str(turn_id)))
        async with self.sessions.begin() as session:
            claimed = await repository.claim_turn(session, turn_id, event.conversation_id, user_id)
            if claimed:
                conversation = await self._open_conversation(session, event)
                if conversation is None:
                    failure = RunFailed(
                        run_id=str(turn_id), code="not_found", message="No such conversation."
                    )
                    await repository.finish_turn(
                        session,
                        turn_id,
                        status="failed",
                        stop_reason="not_found",
                        completed_event={},
                        now=self.now(),
                    )
                else:
                    repository.add_message(
                        session,
                        conversation_id=conversation.id,
                        user_id=user_id,
                        turn_id=turn_id,
                        role="user",
                        content=event.message,
                        created_at=event.occurred_at,
                    )
                    conversation.message_count += 1
                    conversation.updated_at = self.now()
            else:
                replay = await self._replay(session, event)
        if not claimed:
            if replay is not None:
                await live.send(replay[0])
                await publish_event(self.broker, replay[1])
            return
        if conversation is None:
            await live.send(failure)
            return

        age = (self.now() - event.occurred_at).total_seconds()
        if age > self.settings.turn_max_age_seconds:
            await self._end_without_run(event, live, "expired", EXPIRED)
            return
        try:
            await self._run(event, live)
        except Exception:
            # Ended here rather than retried: the turn's tools may already have written habits.
            log.exception("turn %s failed", turn_id)
            await self._end_without_run(event, live, "internal_error", FAILED)

    async def _open_conversation(
        self, session: AsyncSession, event: ChatTurnRequestedV1
    ) -> Conversation | None:
        found = await repository.conversation(
            session, event.user_id, event.conversation_id, lock=True
        )
        if found is not None:
            return found
        if await repository.conversation_exists(session, event.conversation_id):
            return None  # someone else's: never joined, never revealed
        row = repository.add_conversation(
            session, event.user_id, event.conversation_id, _title(event.message)
        )
        await session.flush()
        return row

    async def _replay(
        self, session: AsyncSession, event: ChatTurnRequestedV1
    ) -> tuple[dict[str, Any], ChatTurnCompletedV1] | None:
        """The terminal event and completion of a turn already taken, ending it if it died."""
        turn = await repository.turn(session, event.event_id, lock=True)
        if turn is None:
            return None
        if turn.status == "running":
            running_for = (self.now() - turn.started_at).total_seconds()
            if running_for < self.settings.turn_deadline_seconds + TURN_GRACE_SECONDS:
                return None  # another delivery of it is still at work and will finish it
            log.warning("turn %s was interrupted mid-way; ending it as failed", turn.id)
            completed, terminal = await self._finish(
                session,
                event,
                text=INTERRUPTED,
                status="failed",
                stop_reason="interrupted",
                understanding=None,
                steps=[],
                cards=[],
                tokens=(0, 0),
                completed_event_id=turn.completed_event_id,
            )
            return terminal, completed
        if not turn.completed_event:
            return None
        completed = ChatTurnCompletedV1.model_validate(turn.completed_event)
        return _terminal(
            completed, "This turn already ended." if completed.status == "failed" else ""
        ), completed

    async def _end_without_run(
        self, event: ChatTurnRequestedV1, live: LiveStream, code: str, text: str
    ) -> None:
        async with self.sessions.begin() as session:
            turn = await repository.turn(session, event.event_id, lock=True)
            assert turn is not None
            completed, terminal = await self._finish(
                session,
                event,
                text=text,
                status="failed",
                stop_reason=code,
                understanding=None,
                steps=[],
                cards=[],
                tokens=(0, 0),
                completed_event_id=turn.completed_event_id,
            )
        await live.send(terminal)
        await publish_event(self.broker, completed)

    async def _context(
        self, event: ChatTurnRequestedV1, backend: BusBackend
    ) -> tuple[list[Habit], AIPreferences | None, list[HabitStatus], list[str]]:
        """Habits, preferences, streaks and active plans; whatever fails is left out."""
        user_id = event.user_id

        async def habits() -> list[Habit]:
            return await backend.list_habits(str(user_id))

        async def preferences() -> AIPreferences | None:
            data = await call(
                self.broker,
                learning_rpc.PREFERENCES,
                learning_rpc.UserQuery(user_id=user_id),
                CONTEXT_TIMEOUT_SECONDS,
            )
            return _preferences(data)

        async def plans() -> list[str]:
            async with self.sessions() as session:
                rows = await repository.active_sequences(session, user_id)
            out = []
            for s in rows:
                plan = HabitSequencePlan.model_validate(s.plan)
                phase = phases.phase_of(plan, s.current_phase or 1)
                out.append(
                    f"{plan.name}, phase {phase.phase_number} of {len(plan.phases)} ({phase.name})"
                )
            return out

        found_habits, prefs, found_plans = await asyncio.gather(
            habits(), preferences(), plans(), return_exceptions=True
        )
        habit_list = found_habits if isinstance(found_habits, list) else []
        if isinstance(found_habits, BaseException):
            log.warning("context: habits unavailable: %r", found_habits)

        async def status(h: Habit) -> HabitStatus:
            try:
                data = await call(
                    self.broker,
                    metrics_rpc.GET,
                    metrics_rpc.MetricsQuery(user_id=user_id, habit_id=uuid.UUID(h.id)),
                    CONTEXT_TIMEOUT_SECONDS,
                )
                m = metrics_rpc.HabitMetricsOut.model_validate(data)
                return HabitStatus(h.title, m.current_streak, m.streak_unit, m.completion_rate_week)
            except (HabyssError, ValidationError):
                return HabitStatus(h.title)

        statuses = list(await asyncio.gather(*(status(h) for h in habit_list[:CONTEXT_HABITS])))
        return (
            habit_list,
            prefs if isinstance(prefs, AIPreferences) else None,
            statuses,
            found_plans if isinstance(found_plans, list) else [],
        )

    def _model_for(
        self,
        today: date,
        titles: Sequence[str],
        preferences: AIPreferences | None,
        understood: Understanding,
    ) -> Model:
        offline = OfflinePlanner(
            today=today, known_habits=titles, preferences=preferences, understood=understood
        )
        if isinstance(self._model, OpenAIProvider):
            return OfflineFallback(self._model, offline)
        return self._model if self._model is not None else offline

    async def _run(self, event: ChatTurnRequestedV1, live: LiveStream) -> None:
        user_id, today = event.user_id, event.today
        async with self.sessions() as session:
            conversation = await repository.conversation(session, user_id, event.conversation_id)
            assert conversation is not None
            unsummarised = await repository.messages_of(
                session,
                conversation.id,
                limit=self.settings.memory_recent_messages * 4,
                after=conversation.summarized_through,
            )
            facts = await repository.facts_of(session, user_id)
        # The message being answered is the last of the conversation; what came before is memory.
        earlier = [m for m in unsummarised if m.turn_id != event.event_id]
        backend = BusBackend(
            self.broker, user_id, chronotype=event.chronotype or facts.get("chronotype")
        )
        habits, preferences, statuses, plans = await self._context(event, backend)
        titles = [h.title for h in habits]
        u = understand(event.message, today, titles)
        # What this turn may change comes from the user's own words (services/agent/agency.py):
        # an unclear reply ("yes", "7am") continues the user's previous message.
        previous = next((m for m in reversed(earlier) if m.role == "user"), None)
        before = (
            understand(previous.content, today, titles)
            if previous is not None and needs_clarifying(u)
            else None
        )
        facts_changed = merge_facts(facts, facts_from(u, today))
        facts = {**facts, **facts_changed}
        if u.chronotype is None and facts.get("chronotype"):
            backend = BusBackend(self.broker, user_id, chronotype=facts["chronotype"])
            backend._habits = habits  # already fetched this turn

        fold, keep = split_window(
            [stored(m) for m in earlier], self.settings.memory_recent_messages
        )
        summary = fold_summary(conversation.summary, fold) if fold else conversation.summary
        tone = choose_tone(u.sentiment, preferences, intent=u.intent, achievement=u.achievement)
        context = render_context(
            today=today,
            display_name=event.display_name,
            habits=statuses,
            facts=facts,
            preferences=preferences,
            plans=plans,
        )
        messages: list[Message] = [
            SystemMessage(
                content=system_prompt(
                    user_context=context,
                    conversation_summary=summary,
                    tone_instructions=tone.instructions,
                )
            ),
            *model_history(keep),
            UserMessage(content=event.message),
        ]
        ctx = ToolContext(
            user_id=str(user_id), today=today, backend=backend, sequences=self.sequences.drafts()
        )
        steps: dict[str, dict[str, Any]] = {}
        cards: list[dict[str, Any]] = []
        terminal: RunCompleted | RunFailed | None = None
        async for agent_event in run_agent(
            model=self._model_for(today, titles, preferences, u),
            messages=messages,
            ctx=ctx,
            settings=self.model_settings,
            budgets=self.budgets,
            clock=self.clock,
            run_id=str(event.event_id),
            permitted=permitted_tools(u, before),
        ):
            if isinstance(agent_event, RunStarted):
                continue  # already sent when the turn was claimed
            if isinstance(agent_event, RunCompleted | RunFailed):
                terminal = agent_event
                break
            if isinstance(agent_event, ToolCallStarted):
                steps[agent_event.call_id] = {
                    "call_id": agent_event.call_id,
                    "name": agent_event.name,
                    "arguments": agent_event.arguments,
                }
            elif isinstance(agent_event, ToolCallCompleted):
                steps.setdefault(agent_event.call_id, {"name": agent_event.name}).update(
                    result=agent_event.result, is_error=agent_event.is_error
                )
            elif isinstance(agent_event, CardEvent):
                cards.append(agent_event.card)
            await live.send(agent_event)
        assert terminal is not None

        async with self.sessions.begin() as session:
            turn = await repository.turn(session, event.event_id, lock=True)
            assert turn is not None
            if fold:
                row = await repository.conversation(session, user_id, conversation.id, lock=True)
                assert row is not None
                row.summary = summary
                row.summarized_through = max(row.summarized_through, fold[-1].position)
            await repository.save_facts(session, user_id, facts_changed, self.now())
            ok = isinstance(terminal, RunCompleted)
            completed, _ = await self._finish(
                session,
                event,
                text=terminal.text if isinstance(terminal, RunCompleted) else terminal.message,
                status="completed" if ok else "failed",
                stop_reason=(
                    terminal.stop_reason if isinstance(terminal, RunCompleted) else terminal.code
                ),
                understanding=u,
                steps=list(steps.values()),
                cards=cards,
                tokens=(
                    (terminal.input_tokens, terminal.output_tokens)
                    if isinstance(terminal, RunCompleted)
                    else (0, 0)
                ),
                completed_event_id=turn.completed_event_id,
            )
        await live.send(terminal)
        await publish_event(self.broker, completed)

    async def _finish(
        self,
        session: AsyncSession,
        event: ChatTurnRequestedV1,
        *,
        text: str,
        status: str,
        stop_reason: str,
        understanding: Understanding | None,
        steps: list[dict[str, Any]],
        cards: list[dict[str, Any]],
        tokens: tuple[int, int],
        completed_event_id: uuid.UUID,
    ) -> tuple[ChatTurnCompletedV1, dict[str, Any]]:
        """Store the assistant message and the turn's end; return the completion and terminal."""
        now = self.now()
        conversation = await repository.conversation(
            session, event.user_id, event.conversation_id, lock=True
        )
        assert conversation is not None
        if understanding is not None:
            rows = await repository.messages_of(session, conversation.id, limit=4)
            for row in rows:
                if row.turn_id == event.event_id and row.role == "user":
                    row.intent = understanding.intent
                    row.entities = _entities(understanding)
                    row.sentiment = understanding.sentiment.model_dump(mode="json")
        reply = repository.add_message(
            session,
            conversation_id=conversation.id,
            user_id=event.user_id,
            turn_id=event.event_id,
            role="assistant",
            content=text,
            tool_calls=steps,
            cards=cards,
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            stop_reason=stop_reason,
            created_at=now,
        )
        conversation.message_count += 1
        conversation.updated_at = now
        completed = ChatTurnCompletedV1(
            event_id=completed_event_id,
            user_id=event.user_id,
            turn_id=event.event_id,
            conversation_id=conversation.id,
            message_id=reply.id,
            status=status,
            stop_reason=stop_reason,
            intent=understanding.intent if understanding is not None else None,
            tools=[s["name"] for s in steps],
            tokens=tokens[0] + tokens[1],
            occurred_at=now,
        )
        await repository.finish_turn(
            session,
            event.event_id,
            status=status,
            stop_reason=stop_reason,
            completed_event=completed.model_dump(mode="json"),
            now=now,
        )
        return completed, _terminal(completed, text)

    async def erase_user(self, user_id: uuid.UUID) -> None:
        """Delete every agent row of a deleted account (idempotent)."""
        async with self.sessions.begin() as session:
            await erase_user(session, "agent", user_id)
