"""Audit verification use case."""

from __future__ import annotations

from workflow.domain.audit import AuditVerification, verify_chain
from workflow.services.context import WorkflowContext


def verify_audit_chain(ctx: WorkflowContext) -> AuditVerification:
    with ctx.uow() as uow:
        entries, head_seq, head_hash = uow.repo.audit_entries()
        return verify_chain(entries, head_seq, head_hash)
