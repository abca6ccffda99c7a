"""Why a use case refused: the typed errors services raise (never an error string, never a Flask abort).

A request maps them to the form error or the 4xx it shows, the CLI prints them, the sync answers the change
"refused" with the code — and in every case the unit of work rolls back whatever the use case had flushed.
Each service keeps its own subclass (people.NikTaken, commitments.CommitmentError …) so callers can still tell
them apart; `code` says which rule refused, for the sync's answer and the logs.
"""


class DomainError(Exception):
    """A use case refused by a rule of the domain; nothing it did is kept."""

    status = 422  # what a request shows when no route catches it
    _code: str | None = None

    @property
    def code(self) -> str:
        """Which rule refused: set by the subclass, else the first argument when it is a code, else the class."""
        if self._code:
            return self._code
        return str(self.args[0]) if self.args and isinstance(self.args[0], str) else type(self).__name__

    @code.setter
    def code(self, value: str) -> None:
        self._code = value


class Invalid(DomainError, ValueError):
    """Values or a state the rule does not accept (a form error)."""


class Conflict(DomainError):
    """It clashes with a record that exists (a NIK already registered, a name taken, already signed)."""

    status = 409


class Locked(DomainError):
    """The record is closed to changes (an approved month, an approved batch, a signed record)."""

    status = 409
