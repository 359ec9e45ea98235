"""Concurrent writers on one record serialise by retrying, inside the service.

Two writes to one hazard at the same moment both read the same next evidence number or audit sequence;
the database's unique constraint lets one commit and refuses the other (IntegrityError), or a row's
version moved between read and write (StaleWrite: optimistic locking). Nothing about the request was
wrong, so the loser runs its whole use case again in a fresh transaction and then sees the winner's row:
it appends after it, or meets a documented refusal (illegal transition, stale version, 409). Only after
several lost races in a row does the caller get a ConcurrencyConflict (409), never a 500.

Use cases are wrapped by assignment (`rectify = retry_races(_attempt_rectify)`), not decorated: mutmut 3
leaves decorated functions alone, and the rules inside a use case are what mutation testing must reach.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError

from workflow.domain.errors import ConcurrencyConflict, StaleWrite

P = ParamSpec("P")
R = TypeVar("R")
ATTEMPTS = 6


def retry_races(use_case: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(use_case)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return use_case(*args, **kwargs)
            except (IntegrityError, StaleWrite) as exc:
                if attempt == ATTEMPTS:
                    raise ConcurrencyConflict("too many concurrent writes to this record; retry") from exc
                time.sleep(random.uniform(0.0, 0.01 * 2**attempt))  # de-synchronise the racers
        raise AssertionError("unreachable")

    return run
