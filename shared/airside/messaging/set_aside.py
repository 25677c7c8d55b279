"""An event the relay cannot publish, set aside by ops so the events behind it go out (docs/events.md rule 1).

The relay publishes in commit order, so an event the stream refuses every time holds back every later
one. Ops move it, in one transaction, from the outbox to the service's dead letters (consumer
`outbox-relay`), where it is listed with the error like any parked event; the relay then goes on with
the next. Replaying it publishes it once more under its own event id (the stream drops it if it had
arrived after all), out of commit order: consumers never rely on that order (rule 4).
"""

from __future__ import annotations

from sqlalchemy import delete, select

from airside.db.columns import utcnow
from airside.db.database import Database
from airside.messaging.bus import Bus
from airside.messaging.envelope import EnvelopeError, parse_envelope
from airside.messaging.inbox import Consumer, DeadLetter, ReplayError, replay
from airside.messaging.outbox import OutboxEvent, wake_relays
from airside.messaging.streams import stream_for

RELAY_DEAD_LETTERS = "outbox-relay"  # the dead letters' `consumer` for events set aside from the outbox
PUBLISH_TIMEOUT_SECONDS = 5.0


class NotFailing(Exception):
    """The event has not failed to publish: it waits behind others, and setting it aside would only reorder it."""


async def set_aside(db: Database, event_id: str) -> DeadLetter:
    """Move an unpublished event that has failed to publish from the outbox to the dead letters."""
    async with db.session() as session:
        # FOR UPDATE: a relay pass holding the row finishes first (and may publish it after all).
        query = select(OutboxEvent).where(OutboxEvent.event_id == event_id, OutboxEvent.published_at.is_(None)).with_for_update()  # type: ignore[union-attr]
        row = (await session.execute(query)).scalars().first()
        if row is None:
            raise LookupError(event_id)
        if not row.attempts:
            raise NotFailing(event_id)
        try:
            event_type: str | None = parse_envelope(row.envelope.encode()).type
        except EnvelopeError:
            event_type = None
        try:
            stream = stream_for(row.subject).name
        except LookupError:
            stream = "-"  # no stream holds the subject: the very reason it cannot go out
        letter = DeadLetter(
            consumer=RELAY_DEAD_LETTERS,
            stream=stream,
            stream_seq=row.seq or 0,
            subject=row.subject,
            event_id=row.event_id,
            event_type=event_type,
            payload=row.envelope,
            error=row.last_error or "",
            num_delivered=row.attempts,
            created_at=utcnow(),
        )
        session.add(letter)
        await session.execute(delete(OutboxEvent).where(OutboxEvent.seq == row.seq))  # type: ignore[arg-type]
        await session.commit()
    wake_relays()  # the events behind it go now
    return letter


async def replay_dead_letter(db: Database, bus: Bus, consumers: dict[str, Consumer], dead_letter_id: int) -> DeadLetter:
    """Replay a dead letter: a consumer's through its handler, one set aside from the outbox by publishing it."""
    async with db.session() as session:
        consumer = await session.scalar(select(DeadLetter.consumer).where(DeadLetter.id == dead_letter_id))  # type: ignore[arg-type]
    if consumer is None:
        raise LookupError(dead_letter_id)
    if consumer != RELAY_DEAD_LETTERS:
        return await replay(db, consumers, dead_letter_id)
    async with db.session() as session:
        letter = await session.get(DeadLetter, dead_letter_id)
        if letter is None:
            raise LookupError(dead_letter_id)
        try:
            stream_for(letter.subject)
            await bus.js.publish(
                letter.subject, letter.payload.encode(), headers={"Nats-Msg-Id": letter.event_id or ""}, timeout=PUBLISH_TIMEOUT_SECONDS
            )
        except Exception as exc:  # refused again, or NATS away: it stays parked and says why
            letter.error = repr(exc)[:4000]
            await session.commit()
            raise ReplayError(repr(exc)) from exc
        letter.status = "replayed"
        letter.replayed_at = utcnow()
        await session.commit()
        return letter
