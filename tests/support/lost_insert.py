"""A concurrent writer that wins, on cue: run ``competitor`` right after a session's first lookup of an
entity has answered, so that session's later insert of the same key loses (IntegrityError) exactly as it
would against a racing request, on SQLite and PostgreSQL alike, without threads or sleeps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, sessionmaker
from sqlalchemy.orm import Session as OrmSession


@contextmanager
def wins_after_lookup(
    factory: sessionmaker[OrmSession], entity: type, competitor: Callable[[], None]
) -> Iterator[None]:
    """While open, the first SELECT of ``entity`` gets its answer and only then ``competitor`` runs (and
    commits) in sessions of its own, before that answer is handed back."""
    ran: list[bool] = []

    def after_lookup(state: ORMExecuteState) -> object:
        if ran or not state.is_select or state.bind_mapper is None or state.bind_mapper.class_ is not entity:
            return None
        ran.append(True)  # before it runs: the competitor's own lookups must not trigger it again
        answer = state.invoke_statement().freeze()
        competitor()
        return answer()

    event.listen(factory, "do_orm_execute", after_lookup)
    try:
        yield
    finally:
        event.remove(factory, "do_orm_execute", after_lookup)
