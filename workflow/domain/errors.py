"""Domain errors: every refusal the workflow can give, each with a clear message."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: the request was understood and refused by a domain rule."""


class InvalidInput(DomainError):  # noqa: N818 (the issue names them)
    """A value is malformed or outside what the domain allows (NaN, negative, unknown kind, ...)."""


class ClockSkew(InvalidInput):
    """A timestamp lies in the future beyond the tolerated skew, or before the record's last step."""


class NotFound(DomainError):  # noqa: N818 (the issue names them)
    """The referenced hazard, sensor, permit, zone or user does not exist."""


class IllegalTransition(DomainError):  # noqa: N818 (the issue names them)
    """The lifecycle table has no edge from the current state to the requested one."""


class Unauthorised(DomainError):  # noqa: N818 (the issue names them)
    """The actor's role may not perform this step, or separation of duties forbids this actor."""


class EvidenceRuleViolation(DomainError):  # noqa: N818 (the issue names them)
    """An evidence rule refused the step (e.g. closing without a resolved verification)."""


class ConcurrencyConflict(DomainError):  # noqa: N818 (the issue names them)
    """Someone else changed the record first (optimistic locking); reload and retry."""


class StaleWrite(ConcurrencyConflict):
    """A row changed between this transaction's read and its write: a lost race, not the client's stale
    version. Use cases run again (``retry_races``); only repeated losses reach the client as a 409."""


class ImmutableRecord(DomainError):  # noqa: N818 (the issue names them)
    """Append-only records (evidence, audit) cannot be updated or deleted."""
