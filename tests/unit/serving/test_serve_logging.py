"""``hazardeye serve`` logs the service's own news (info) with time and origin; a bad level is refused."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import typer

from serving.cli.serve_cmd import log_service_events, serve


@pytest.fixture
def restored_loggers() -> Iterator[None]:
    names = ("serving", "cameras", "workflow", "vision")
    loggers = {n: logging.getLogger(n) for n in names}
    saved = {n: (lg.level, list(lg.handlers), lg.propagate) for n, lg in loggers.items()}
    yield
    for name, (level, handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate


def test_the_services_info_lines_reach_stderr_and_libraries_stay_quiet(
    restored_loggers: None, capsys: pytest.CaptureFixture[str]
) -> None:
    log_service_events("info")
    logging.getLogger("serving.bus.local").info("ALERT camera.back level=0 camera rig-2: stream back")
    logging.getLogger("cameras.health").debug("not at info")
    logging.getLogger("urllib3.connectionpool").info("a library's chatter")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].endswith(" INFO serving.bus.local: ALERT camera.back level=0 camera rig-2: stream back")


def test_an_unknown_log_level_is_refused_before_anything_starts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as refused:
        serve(host=None, port=None, env_file=None, log_level="loud")
    assert refused.value.exit_code == 2
    assert capsys.readouterr().err == "error: --log-level must be debug, info, warning or error, not 'loud'\n"
