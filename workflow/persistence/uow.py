"""Unit of work: one transaction per use case; leaving without commit rolls everything back."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from workflow.domain.errors import ImmutableRecord, StaleWrite
from workflow.persistence.orm import AuditRow, EvidenceRow
from workflow.persistence.repository import Repository

_APPEND_ONLY = (EvidenceRow, AuditRow)


def _guard_append_only(session: Session, _ctx: object, _instances: object) -> None:
    """Original evidence and audit rows are immutable: refuse any flush that edits or deletes them."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, _APPEND_ONLY) and (obj in session.deleted or session.is_modified(obj)):
            raise ImmutableRecord(f"{type(obj).__name__} rows are append-only; append new evidence instead")


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self._session: Session | None = None
        self._committed = False

    @property
    def session(self) -> Session:
        assert self._session is not None, "use the unit of work as a context manager"
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        event.listen(self._session, "before_flush", _guard_append_only)
        self.repo = Repository(self._session)
        self._committed = False
        return self

    def commit(self) -> None:
        try:
            self.repo.write_deferred_audit()
            self.session.commit()
        except StaleDataError as exc:
            self.session.rollback()
            raise StaleWrite("the record was changed by someone else; reload and retry") from exc
        finally:
            self.repo.transaction_ended()  # the audit-head lock is gone with the transaction
        self._committed = True

    def flush(self) -> None:
        try:
            self.session.flush()
        except StaleDataError as exc:
            raise StaleWrite("the record was changed by someone else; reload and retry") from exc

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._committed:
            self.session.rollback()
        self.repo.transaction_ended()
        self.session.close()
        self._session = None
        if isinstance(exc, StaleDataError):
            # Autoflush inside a use case hit a row someone else changed: same meaning as at commit.
            raise StaleWrite("the record was changed by someone else; reload and retry") from exc
