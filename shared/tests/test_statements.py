"""Statements run on the driver's connection (airside.statements) leave the rows the ORM would: a column
left out gets its default, computed by Python where SQLAlchemy's execution context would compute it."""

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Field, SQLModel

from airside.db.columns import UtcDateTime, utcnow
from airside.db.database import Database
from airside.statements import insert_ignoring_duplicates, insert_many_ignoring_duplicates


class Postcard(SQLModel, table=True):
    id: str = Field(primary_key=True)
    station: str = Field(max_length=3)
    status: str = Field(default="written", max_length=20)  # a scalar default
    serial: str = Field(default_factory=lambda: uuid.uuid4().hex, max_length=32)  # a callable one
    written_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


async def test_a_row_inserted_without_its_defaulted_columns_gets_their_defaults(databases):
    db = Database(databases.create("statements_defaults"))
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all, tables=[Postcard.__table__])
        async with db.session() as session:
            assert await insert_ignoring_duplicates(session, Postcard, {"id": "a", "station": "PEK"}, index_elements=["id"])
            assert not await insert_ignoring_duplicates(session, Postcard, {"id": "a", "station": "CAN"}, index_elements=["id"])
            claimed = await insert_many_ignoring_duplicates(
                session, Postcard, [{"id": "a", "station": "SHA"}, {"id": "b", "station": "SHA"}, {"id": "c", "station": "SHA"}],
                Postcard.id, index_elements=["id"],
            )  # fmt: skip
            await session.commit()
        assert claimed == {"b", "c"}
        async with db.session() as session:
            cards = {card.id: card for card in (await session.execute(select(Postcard))).scalars()}
        assert {card.station for card in cards.values()} == {"PEK", "SHA"} and cards["a"].station == "PEK"
        assert all(card.status == "written" for card in cards.values())
        assert len({card.serial for card in cards.values()}) == 3, "a callable default is called for every row"
        assert all(len(card.serial) == 32 and card.written_at.tzinfo is not None for card in cards.values())
    finally:
        await db.dispose()
