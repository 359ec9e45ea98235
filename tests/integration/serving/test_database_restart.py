"""A PostgreSQL restart under a running service: requests fail clearly (503, the usual error shape) while
the database is down, and succeed again once it is back, without restarting the service."""

from __future__ import annotations

from pathlib import Path

import pytest

from serving.settings import DatabaseSettings
from tests.support.api import api_harness, embedded_settings
from tests.support.private_postgres import private_postgres
from workflow.domain.roles import Role

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_api_answers_503_while_the_database_is_down_and_recovers_by_itself(tmp_path: Path) -> None:
    with private_postgres() as server:
        settings = embedded_settings(tmp_path, database=DatabaseSettings(url=server.url))
        with api_harness(settings) as api:
            headers = api.auth(Role.INSPECTOR)
            zone = {"name": "Tank farm", "area": "north", "permit_kinds": []}
            engineer = api.auth(Role.SAFETY_ENGINEER)
            assert api.client.put("/api/v1/zones/tank-farm", json=zone, headers=engineer).status_code == 200
            assert api.client.get("/api/v1/hazards", headers=headers).status_code == 200

            server.stop()
            down = api.client.get("/api/v1/hazards", headers=headers)
            assert down.status_code == 503, down.text
            assert down.json()["detail"]["error"] == "database_unavailable"
            health = api.client.get("/health")
            assert health.status_code == 503 and not health.json()["checks"]["database"]["ok"]

            server.start()  # same service object, same engine: the pool reconnects by itself
            again = api.client.get("/api/v1/hazards", headers=headers)
            assert again.status_code == 200, again.text
            zones = api.client.get("/api/v1/zones", headers=headers).json()
            assert [z["id"] for z in zones] == ["tank-farm"]  # the data survived the restart
            assert api.client.get("/health").json()["checks"]["database"]["ok"]
