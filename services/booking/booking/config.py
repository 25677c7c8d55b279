from typing import ClassVar

from pydantic import Field

from airside.settings import AirsideSettings


class Settings(AirsideSettings):
    service_name: ClassVar[str] = "booking"

    database_url: str = Field("sqlite+aiosqlite:///.data/booking.db", validation_alias="BOOKING_DATABASE_URL")
    port: int = Field(8001, validation_alias="BOOKING_PORT")
