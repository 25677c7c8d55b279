from typing import ClassVar

from pydantic import Field

from airside.settings import AirsideSettings


class Settings(AirsideSettings):
    service_name: ClassVar[str] = "callcenter"

    database_url: str = Field("sqlite+aiosqlite:///.data/callcenter.db", validation_alias="CALLCENTER_DATABASE_URL")
    port: int = Field(8003, validation_alias="CALLCENTER_PORT")
