"""What every use case needs: a session factory, a clock and the domain configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from workflow.domain.clock import Clock, SystemClock
from workflow.domain.config import WorkflowConfig
from workflow.persistence.uow import UnitOfWork


@dataclass(frozen=True)
class WorkflowContext:
    session_factory: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)
    config: WorkflowConfig = field(default_factory=WorkflowConfig)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)
