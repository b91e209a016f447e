"""Errors raised by services. Every message is written for the person who has to act on it."""

from __future__ import annotations

from app.services.core.error_codes import ErrorCode


class FormtrailError(Exception):
    """Base class: ``str(error)`` says what is wrong and, where possible, what to do; ``code`` is a stable
    machine name for it (code and tests branch on the code, never on the wording)."""

    default_code: str = ErrorCode.ERROR

    def __init__(self, *args: object, code: str | None = None) -> None:
        super().__init__(*args)
        self.code = code or self.default_code


class NotFound(FormtrailError):
    default_code = ErrorCode.NOT_FOUND


class ValidationError(FormtrailError):
    """Input that cannot be accepted as given (missing reason, weak password, bad value)."""

    default_code = ErrorCode.INVALID_INPUT


class DomainError(FormtrailError):
    """An action the current state does not allow (an invalid lifecycle transition, for example)."""

    default_code = ErrorCode.NOT_ALLOWED_NOW


class RuleViolation(DomainError):
    """A GMP rule refused the action (self-approval, same person signing two roles). Logged to the audit trail."""

    default_code = ErrorCode.RULE_REFUSED
    audit_action = "RULE_REFUSED"


class PermissionDenied(FormtrailError, PermissionError):
    """The acting user's roles do not allow this. Logged to the audit trail."""

    default_code = ErrorCode.ACCESS_DENIED
    audit_action = "ACCESS_DENIED"


class AuthenticationError(FormtrailError):
    """Wrong user name or password (the failure has already been recorded)."""


class AccountLocked(AuthenticationError):
    pass


class AccountInactive(AuthenticationError):
    pass


class PasswordChangeRequired(FormtrailError):
    """The password is temporary or expired: the user must set a new one before doing anything else."""


class NotInitialised(FormtrailError):
    pass


class DamagedData(FormtrailError):
    """The database holds a value Formtrail never writes (a state no enum has): it was changed outside
    Formtrail. The text names table, column and value and says what to do; ``formtrail verify`` lists all."""

    default_code = ErrorCode.UNKNOWN_STORED_VALUE

    def __init__(self, message: str, *, table: str, column: str, value: object) -> None:
        super().__init__(message)
        self.table, self.column, self.value = table, column, value
