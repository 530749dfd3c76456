import time

from commands.models import Command, CommandStatus

POLL_SECONDS = (0.005, 0.01, 0.02, 0.05, 0.1)


def await_outcome(command: Command, wait: float) -> Command:
    """The command once it has ended, or as it stands after ``wait`` seconds.
    Polls the database, so the answer may come from any csms process."""
    deadline = time.monotonic() + wait
    attempt = 0
    while True:
        command.refresh_from_db()
        remaining = deadline - time.monotonic()
        # A held command waits for a reconnect: no use keeping the caller.
        if command.status not in (CommandStatus.QUEUED, CommandStatus.SENT) or remaining <= 0:
            return command
        time.sleep(min(POLL_SECONDS[min(attempt, len(POLL_SECONDS) - 1)], remaining))
        attempt += 1
