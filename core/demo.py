"""Demo city (演示数据): deterministic from a seed and "today" (DANGJIAN_TODAY)."""
from __future__ import annotations

from core.db import database, write_tx
from core import models


def has_data() -> bool:
    return models.Community.select().exists() or models.Member.select().exists()


def wipe() -> None:
    """Delete every record (keeps users and the schema)."""
    keep = {models.User}
    with write_tx():
        for model in reversed(models.CORE_MODELS):
            if model not in keep:
                model.delete().execute()


def build(size: str = "small", seed: int = 20111, progress: bool = False) -> dict:
    raise NotImplementedError("demo generator not written yet")
