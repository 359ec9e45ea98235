"""Release N callables at once from N threads and collect how each ended (concurrency tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence


def race(work: Sequence[Callable[[], object]], timeout_s: float = 60.0) -> list[BaseException | None]:
    """Run every callable in its own thread, released together by a barrier; None for each that returned."""
    gate = threading.Barrier(len(work))
    outcomes: list[BaseException | None] = [None] * len(work)

    def run(i: int) -> None:
        gate.wait()
        try:
            work[i]()
        except BaseException as exc:  # collected, judged by the test
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_s)
    if any(thread.is_alive() for thread in threads):
        raise AssertionError(f"a racer was still running after {timeout_s} s (deadlock?)")
    return outcomes
