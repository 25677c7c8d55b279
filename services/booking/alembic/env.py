from sqlmodel import SQLModel

from airside.db.upgrade import run_alembic_env
from booking import models  # noqa: F401 - registers every table
from booking.config import Settings

run_alembic_env(SQLModel.metadata, Settings().database_url)
