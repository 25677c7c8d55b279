from typing import ClassVar

from pydantic import Field

from airside.settings import AirsideSettings


class Settings(AirsideSettings):
    service_name: ClassVar[str] = "lounge"

    database_url: str = Field("sqlite+aiosqlite:///.data/lounge.db", validation_alias="LOUNGE_DATABASE_URL")
    port: int = Field(8002, validation_alias="LOUNGE_PORT")
