from sqlmodel import SQLModel

from airside.db.upgrade import run_alembic_env
from lounge import models  # noqa: F401 - registers every table
from lounge.config import Settings

run_alembic_env(SQLModel.metadata, Settings().database_url)
