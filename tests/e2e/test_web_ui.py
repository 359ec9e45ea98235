"""The web UI in a real headless Chromium against the real `hazardeye serve` process (embedded profile,
SQLite and local objects in a temporary folder): field upload → hazard on the board, the whole closed
loop with separate rectifier and reviewer, the language switch, and a phone viewport."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) does not put the repo root on the path
    sys.path.insert(0, str(ROOT))

from tests.support.rtsp_process import RtspServer, gstreamer_available  # noqa: E402
from tests.support.video import write_pattern_video  # noqa: E402

HAZARDEYE = str(Path(sys.executable).parent / "hazardeye")
CHROMIUM = "/usr/bin/chromium"
IMAGES = Path(__file__).resolve().parents[1] / "fixtures" / "hardhat" / "images"
WITH_HEADS = IMAGES / "004951.jpg"  # labelled with 7 heads (workers without helmets)
HELMETS_ONLY = IMAGES / "004944.jpg"  # every worker wears a helmet
ROLES = ("inspector", "rectifier", "reviewer", "safety_engineer")


@dataclass(frozen=True)
class Service:
    base: str
    keys: dict[str, str]  # role (and "admin") → API key

    def call(self, method: str, path: str, role: str = "admin", body: object | None = None) -> object:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.keys[role]}", "Content-Type": "application/json"}
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"hazardeye serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"hazardeye serve did not answer in time:\n{log.read_text()}")


@contextmanager
def running_service(tmp: Path, **extra_env: str) -> Iterator[Service]:
    """`hazardeye serve` on a free port over ``tmp``, plus one user per role (named ``ROLE-1``)."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HAZARDEYE_")},
        "HAZARDEYE_DATA_DIR": str(tmp / "var"),
        "HAZARDEYE_DATABASE__URL": f"sqlite:///{tmp / 'var' / 'hazardeye.db'}",
        "HAZARDEYE_OBJECTS__KIND": "local",
        "HAZARDEYE_OBJECTS__ROOT": str(tmp / "var" / "objects"),
        **extra_env,
    }
    log = tmp / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [HAZARDEYE, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=tmp, stdout=out, stderr=out,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(f"{base}/health", proc, log)
        keys = {"admin": log.read_text().split("shown only this once:")[1].split()[0]}
        for role in ROLES:
            created = subprocess.run(
                [HAZARDEYE, "users", "create", f"{role}-1", "--role", role],
                env=env, cwd=tmp, capture_output=True, text=True, timeout=120, check=True,
            )  # fmt: skip
            keys[role] = created.stdout.strip()
        yield Service(base, keys)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("web")) as svc:
        yield svc


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def sign_in(page: Page, service: Service, role: str, route: str = "#/hazards") -> None:
    """Put the user's key in localStorage (as the login form does) and load the app at ``route``."""
    page.goto(f"{service.base}/")
    page.evaluate("key => localStorage.setItem('hazardeye.key', key)", service.keys[role])
    page.goto(f"{service.base}/{route}")
    page.reload()
    expect(page.locator("#who")).to_contain_text("admin" if role == "admin" else f"{role}-1")


def upload_photo(page: Page, image: Path, zone: str) -> int:
    """Upload ``image`` on the inspector page; return the id of the first hazard it created."""
    page.locator("#photo").set_input_files(str(image))
    page.locator("#zone").fill(zone)
    page.get_by_role("button", name="Upload and analyse").click()
    expect(page.locator("#findings li[data-kind='ppe.no_helmet']").first).to_be_visible(timeout=60_000)
    link = page.locator("#created-hazards li a").first
    expect(link).to_be_visible()
    return int((link.text_content() or "").lstrip("#"))


def wait_state(page: Page, state: str) -> None:
    expect(page.locator("#hazard-state [data-state]")).to_have_attribute("data-state", state, timeout=30_000)


def test_inspector_upload_creates_a_hazard_on_the_board(page: Page, service: Service) -> None:
    sign_in(page, service, "inspector", "#/upload")
    expect(page.locator("#photo")).to_have_attribute("capture", "environment")
    hazard_id = upload_photo(page, WITH_HEADS, "zone-upload")
    # The annotated photo is fetched with the bearer header and shown from a blob: URL.
    page.wait_for_function(
        "() => { const i = document.querySelector('#upload-result img.photo');"
        " return i && i.src.startsWith('blob:') && i.naturalWidth > 0; }"
    )
    page.get_by_role("link", name="Hazards").first.click()
    card = page.locator(f"#hazard-list a[data-hazard-id='{hazard_id}']")
    expect(card).to_be_visible()
    expect(card).to_contain_text("No helmet")
    expect(card.locator(".badge[data-level]")).to_have_count(1)
    # The server kept the upload: the board filter by state finds it, a non-matching one does not.
    page.locator("select[name=state]").select_option("closed")
    expect(page.locator(f"#hazard-list a[data-hazard-id='{hazard_id}']")).to_have_count(0)
    page.locator("select[name=state]").select_option("discovered")
    expect(page.locator(f"#hazard-list a[data-hazard-id='{hazard_id}']")).to_be_visible()


def test_with_face_blurring_the_inspector_sees_only_blurred_images(browser: Browser, tmp_path: Path) -> None:
    with running_service(tmp_path, HAZARDEYE_PRIVACY__BLUR_FACES="true") as svc:
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        try:
            pg = context.new_page()
            faces: list[str | None] = []
            pg.on(
                "response",
                lambda r: (
                    faces.append(r.headers.get("x-hazardeye-faces")) if "/api/v1/objects/" in r.url else None
                ),
            )
            sign_in(pg, svc, "inspector", "#/upload")
            hazard_id = upload_photo(pg, WITH_HEADS, "zone-private")
            pg.goto(f"{svc.base}/#/hazards/{hazard_id}")
            thumbs = pg.locator(".timeline .thumbs img")
            expect(thumbs).to_have_count(2)  # the photo and its annotated copy
            pg.wait_for_function(
                "() => [...document.querySelectorAll('.timeline .thumbs img')]"
                ".every(i => i.src.startsWith('blob:') && i.naturalWidth > 0)"
            )
            # The photo came as its blurred copy; the annotated image is drawn on it; never the original.
            assert "blurred" in faces and "original" not in faces, faces
        finally:
            context.close()


def test_a_late_answer_to_an_older_filter_never_replaces_the_newer(page: Page, service: Service) -> None:
    sign_in(page, service, "inspector", "#/upload")
    hazard_id = upload_photo(page, WITH_HEADS, "zone-race")
    held: list[Route] = []

    def hold_closed(route: Route) -> None:
        if "state=closed" in route.request.url:
            held.append(route)  # answered only after the newer filter has been shown
        else:
            route.continue_()

    page.route("**/api/v1/hazards?*", hold_closed)
    page.get_by_role("link", name="Hazards").first.click()
    card = page.locator(f"#hazard-list a[data-hazard-id='{hazard_id}']")
    expect(card).to_be_visible()
    page.locator("select[name=state]").select_option("closed")
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert held, "the board did not ask for closed hazards"
    page.locator("select[name=state]").select_option("discovered")
    expect(card).to_be_visible()
    with page.expect_response(lambda r: "state=closed" in r.url) as late:
        held[0].continue_()
    late.value.finished()
    page.evaluate("() => new Promise((done) => setTimeout(done, 300))")  # let the page handle the answer
    expect(card).to_be_visible()
    expect(page.locator("#hazard-list")).not_to_contain_text("Nothing here.")


def test_hazard_walks_to_closed_with_separate_rectifier_and_reviewer(page: Page, service: Service) -> None:
    sign_in(page, service, "inspector", "#/upload")
    hazard_id = upload_photo(page, WITH_HEADS, "zone-loop")
    detail = f"#/hazards/{hazard_id}"

    page.locator("#created-hazards li a").first.click()
    wait_state(page, "discovered")
    page.locator("[data-action=register]").click()
    wait_state(page, "registered")

    sign_in(page, service, "safety_engineer", detail)
    page.locator("#assignee").fill("rectifier-1")
    page.locator("[data-action=dispatch]").click()
    wait_state(page, "dispatched")

    sign_in(page, service, "rectifier", detail)
    page.locator("[data-action=start]").click()
    wait_state(page, "in_rectification")
    page.locator("#after-photo").set_input_files(str(HELMETS_ONLY))
    page.locator("[data-action=rectify]").click()
    wait_state(page, "rectified")
    # Before and after side by side, both images loaded through the API; the verdict is shown.
    page.wait_for_function(
        "() => { const imgs = [...document.querySelectorAll('#before-after img.photo')];"
        " return imgs.length === 2 && imgs.every(i => i.src.startsWith('blob:') && i.naturalWidth > 0); }"
    )
    verdict = page.locator("section:has(#before-after) .verdict").get_attribute("data-verdict")
    assert verdict in {"resolved", "not_resolved", "different_scene", "needs_reinspection"}
    # The verification's comparison image (stored with the verification evidence) is shown under the pair.
    shown = service.call("GET", f"/api/v1/hazards/{hazard_id}")
    assert isinstance(shown, dict)
    assert [e["object_keys"] for e in shown["evidence"] if e["kind"] == "verification"][-1]
    page.wait_for_function(
        "() => { const i = document.querySelector('figure.pane.wide img.photo');"
        " return i !== null && i.src.startsWith('blob:') && i.naturalWidth > 0; }"
    )
    # The rectifier has no review button: the reviewer must be someone else.
    expect(page.locator("[data-action=approve]")).to_have_count(0)

    sign_in(page, service, "reviewer", detail)
    approve = page.locator("[data-action=approve]")
    if verdict != "resolved":
        # The reviewer is warned and must confirm an own look at the site before approving.
        expect(page.locator("#review-warning")).to_be_visible()
        expect(page.locator("section:has(#before-after) .verdict .reasons li").first).to_be_visible()
        expect(approve).to_be_disabled()
        page.locator("#checked-on-site").check()
    expect(approve).to_be_enabled()
    approve.click()
    wait_state(page, "reviewed")
    override = page.locator("#override-reason")
    # A different scene as the after photo cannot verify as resolved: closing needs an override reason.
    assert (override.count() == 1) == (verdict != "resolved")
    if verdict != "resolved":
        override.fill("checked on site: all workers wear helmets now")
    page.locator("[data-action=close]").click()
    wait_state(page, "closed")

    detail_json = service.call("GET", f"/api/v1/hazards/{hazard_id}")
    assert isinstance(detail_json, dict)
    events = detail_json["events"]
    by_action = {e["action"]: e["by"] for e in events}
    assert by_action["rectify"] == "rectifier-1"
    assert by_action["approve"] == "reviewer-1"
    assert by_action["close"] == "reviewer-1"
    kinds = [e["kind"] for e in detail_json["evidence"]]
    assert "after_photo" in kinds
    # The timeline lists every piece of evidence, after photo included.
    expect(page.locator("ol.timeline li[data-kind=after_photo]")).to_have_count(1)


def test_language_switch_shows_chinese_labels(page: Page, service: Service) -> None:
    sign_in(page, service, "inspector", "#/hazards")
    expect(page.locator("[data-nav=hazards]")).to_have_text("Hazards")
    page.locator("#lang").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("[data-nav=hazards]")).to_have_text("隐患")
    expect(page.locator("[data-nav=permits]")).to_have_text("作业许可")
    expect(page.locator("h1")).to_have_text("隐患台账")
    expect(page.locator("#who")).to_contain_text("检查员")
    # A label and its value are joined by the full-width colon in Chinese ("状态：全部", not "状态: 全部").
    expect(page.locator("select[name=state] option").first).to_have_text("状态：全部")
    # The choice survives a reload (localStorage) and switches back.
    page.reload()
    expect(page.locator("[data-nav=upload]")).to_have_text("隐患排查")
    page.locator("#lang").click()
    expect(page.locator("[data-nav=hazards]")).to_have_text("Hazards")


_STICKING_OUT = """() => [...document.querySelectorAll('body *')]
  .filter(el => !el.closest('.table-wrap') && el.getClientRects().length
    && el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .map(el => el.tagName + '.' + el.className)"""


@pytest.mark.parametrize(
    "route",
    ["#/hazards", "#/upload", "#/cameras", "#/permits", "#/alerts", "#/kpis", "#/models", "#/reviews"],
)
def test_phone_viewport_has_no_horizontal_scroll(browser: Browser, service: Service, route: str) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True, has_touch=True
    )
    try:
        pg = context.new_page()
        sign_in(pg, service, "safety_engineer", route)
        expect(pg.locator("main h1").first).to_be_visible()
        # Data arrived (the alerts page keeps a stream open, so "network idle" never comes).
        pg.wait_for_function("() => !document.querySelector('main').innerText.includes('Loading')")
        widths = pg.evaluate(
            "() => [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
        )
        assert max(widths[0], widths[1]) <= widths[2] == 390, widths
        # No visible element sticks out on the right (wide tables scroll inside their own box).
        sticking_out = pg.evaluate(_STICKING_OUT)
        assert sticking_out == [], sticking_out
    finally:
        context.close()


def test_live_alert_appears_without_reload_and_can_be_acknowledged(page: Page, service: Service) -> None:
    service.call("PUT", "/api/v1/zones/zone-gas", body={"name": "Chlorine unit", "area": "unit-2"})
    service.call(
        "PUT", "/api/v1/sensors/cl2-1", body={"zone": "zone-gas", "unit": "ppm", "thresholds": [1, 3]}
    )
    sign_in(page, service, "inspector", "#/alerts")
    expect(page.locator("#alert-mode")).to_have_text("Live")  # the fetch() stream is connected
    assert page.locator("#alert-list [data-alert]").count() == 0
    service.call("POST", "/api/v1/sensors/cl2-1/readings", role="inspector", body={"value": 5.0})
    card = page.locator("#alert-list [data-alert]").first
    expect(card).to_contain_text("zone-gas", timeout=10_000)
    # Worded from the alert's fields (the stored list replaces the stream's bare message within a poll).
    worded = "Sensor cl2-1: tier 1 → 3, reading 5 ppm"
    expect(card.locator(".alert-text")).to_have_text(worded, timeout=10_000)
    expect(page.locator("#alert-count")).to_have_text("1", timeout=20_000)  # counted on the navigation
    card.locator("[data-action=ack]").click()
    expect(page.locator("#alert-list [data-alert]")).to_have_count(0)
    alerts = service.call("GET", "/api/v1/alerts?limit=10")
    assert isinstance(alerts, list) and alerts and all(a["acknowledged"] for a in alerts)


def test_permit_request_and_two_person_approval(page: Page, service: Service) -> None:
    service.call("PUT", "/api/v1/zones/zone-tank", body={"name": "Tank farm", "area": "storage"})
    sign_in(page, service, "inspector", "#/permits")
    page.locator("details.card-wrap > summary").click()
    page.locator("#permit-form select[name=type]").select_option("confined_space")
    page.locator("#permit-form input[name=zone]").fill("zone-tank")
    page.locator("#permit-form button[type=submit]").click()
    permit = page.locator("#permit-list [data-permit]").first
    expect(permit).to_have_attribute("data-status", "pending")
    expect(permit).to_contain_text("Confined space")
    expect(permit.locator("[data-action=approve]")).to_have_count(0)  # an inspector cannot approve

    for role in ("safety_engineer", "admin"):  # two distinct approvers
        sign_in(page, service, role, "#/permits")
        page.locator("#permit-list [data-permit] [data-action=approve]").first.click()
    expect(page.locator("#permit-list [data-permit]").first).to_have_attribute("data-status", "active")

    page.locator("#permit-list [data-permit] input[name=reason]").first.fill("gas detector failed")
    page.locator("#permit-list [data-permit] [data-action=suspend]").first.click()
    expect(page.locator("#permit-list [data-permit]").first).to_have_attribute("data-status", "suspended")


def test_engineer_reviews_detections_for_training(page: Page, service: Service) -> None:
    sign_in(page, service, "inspector", "#/upload")
    expect(page.locator("[data-nav=reviews]")).to_have_count(0)  # not an inspector's screen
    page.locator("#photo").set_input_files(str(IMAGES / "004945.jpg"))
    page.locator("#zone").fill("zone-review")
    page.get_by_role("button", name="Upload and analyse").click()
    photo_id = page.locator("#upload-result [data-photo-id]").get_attribute("data-photo-id", timeout=60_000)
    assert photo_id

    sign_in(page, service, "safety_engineer", "#/reviews")
    card = page.locator(f"#review-list [data-photo-id='{photo_id}']")
    expect(card).to_be_visible()
    boxes = card.locator(".review-boxes li")
    detected = boxes.count()
    assert detected >= 1
    expect(card.locator("svg.boxes rect")).to_have_count(detected)
    boxes.first.locator("input[type=checkbox]").uncheck()  # a false positive: drop it
    expect(card.locator("svg.boxes rect")).to_have_count(detected - 1)
    card.locator("[data-action=save-review]").click()
    expect(card).to_have_count(0)  # reviewed photos leave the queue

    exported = service.call("GET", "/api/v1/reviews/export")
    assert isinstance(exported, list)
    record = next(r for r in exported if r["photo_id"] == photo_id)
    assert (len(record["detections"]), record["reviewed_by"]) == (detected - 1, "safety_engineer-1")


def test_upload_retries_a_dropped_connection_with_the_same_idempotency_key(
    page: Page, service: Service, tmp_path: Path
) -> None:
    # The same scene re-encoded: pixels the server has never stored, so this upload is new.
    photo = tmp_path / "flaky.jpg"
    pixels = cv2.imread(str(WITH_HEADS))
    assert pixels is not None
    assert cv2.imwrite(str(photo), pixels, [cv2.IMWRITE_JPEG_QUALITY, 90])
    sign_in(page, service, "inspector", "#/upload")
    keys: list[str | None] = []

    def drop_first(route: Route) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.abort("connectionreset")  # the site's connection drops mid-upload
        else:
            route.continue_()

    page.route("**/api/v1/photos", drop_first)
    hazard_id = upload_photo(page, photo, "zone-flaky")
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1], keys
    page.unroute("**/api/v1/photos")

    # Sending the same photo again (a user's double tap) answers with the recorded result, no new hazard.
    page.get_by_role("button", name="Upload and analyse").click()
    expect(page.locator("#upload-result .msg, form .msg").first).to_have_text(
        "Already uploaded — same result returned."
    )
    hazards = service.call("GET", "/api/v1/hazards?zone=zone-flaky")
    assert isinstance(hazards, dict)
    assert [h["id"] for h in hazards["items"]] == [hazard_id]


def test_inspector_reports_a_hazard_by_hand_graded_by_the_risk_matrix(page: Page, service: Service) -> None:
    sign_in(page, service, "inspector", "#/hazards")
    page.get_by_role("button", name="Report a hazard").click()
    form = page.locator("#manual-form")
    form.locator("select[name=kind]").select_option("manual.fire")
    form.locator("input[name=zone]").fill("zone-manual")
    form.locator("textarea[name=description]").fill("extinguisher missing at pump P-101")
    form.locator("input[name=likelihood]").fill("5")
    form.locator("input[name=severity]").fill("4")  # 5 × 4 = 20 → red on the default matrix
    form.locator("input[name=file]").set_input_files(str(HELMETS_ONLY))
    form.locator("button[type=submit]").click()
    expect(page.locator("#hazard-title")).to_contain_text("Fire safety")
    expect(page.locator(".page-head .badge[data-level]")).to_have_attribute("data-level", "red")
    page.wait_for_function(
        "() => [...document.querySelectorAll('ol.timeline img.photo')]"
        ".some(i => i.src.startsWith('blob:') && i.naturalWidth > 0)"
    )


def test_camera_grid_shows_latest_snapshot_and_health(browser: Browser, tmp_path: Path) -> None:
    if not gstreamer_available():
        pytest.fail("GStreamer RTSP server missing: run scripts/system-packages")
    video = write_pattern_video(tmp_path / "yard.mp4", seconds=120)  # outlasts the test
    rtsp = RtspServer(video, mounts=1, live=True).start()
    dead_url = f"rtsp://127.0.0.1:{_free_port()}/cam0"  # nothing listens there
    cameras = {
        "cameras": [
            {"id": "yard", "name": "Tank yard", "url": rtsp.url(), "zone": "zone-yard", "interval_s": 1},
            {"id": "gate", "name": "North gate", "url": dead_url, "zone": "zone-gate", "interval_s": 1,
             "open_timeout_s": 1},
        ]
    }  # fmt: skip
    config = tmp_path / "cameras.json"
    config.write_text(json.dumps(cameras))
    try:
        with running_service(tmp_path, HAZARDEYE_CAMERAS__CONFIG_FILE=str(config)) as svc:
            context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
            try:
                pg = context.new_page()
                sign_in(pg, svc, "inspector", "#/cameras")
                yard = pg.locator("[data-camera=yard]")
                gate = pg.locator("[data-camera=gate]")
                expect(yard).to_be_visible()
                expect(gate).to_be_visible()
                # The grid refreshes itself: wait for the first frame of the live camera.
                pg.wait_for_function(
                    "() => { const i = document.querySelector('[data-camera=yard] .snapshot img');"
                    " return i && i.src.startsWith('blob:') && i.naturalWidth === 320; }",
                    timeout=60_000,
                )
                assert yard.get_attribute("data-state") not in {"offline", "disabled"}
                expect(gate.locator(".snapshot img")).to_have_count(0)
                expect(gate).not_to_have_attribute("data-state", "streaming", timeout=30_000)
                # Its last error is worded by cause in English too, as on the alerts page; the stream
                # library's text (errno, URL) only in the tooltip.
                expect(gate.locator(".cam-error")).to_have_text("connection refused", timeout=30_000)
                expect(gate.locator(".cam-error")).to_have_attribute("title", re.compile("^refused: .*Errno"))
                # In Chinese the cause is worded, not the stream library's English (nothing listens: refused),
                # and the outage is a stored alert once the 10 s grace has passed, worded from its fields.
                pg.locator("#lang").click()
                expect(gate.locator(".cam-error")).to_have_text("连接被拒绝", timeout=10_000)
                pg.goto(f"{svc.base}/#/alerts")
                offline = pg.locator("#alert-list [data-alert] .alert-text", has_text="gate")
                expect(offline.first).to_have_text("摄像头 gate 视频流中断：连接被拒绝", timeout=60_000)
                expect(pg.locator("#alert-list [data-alert]").first.locator("details summary")).to_have_text(
                    "技术细节"
                )
            finally:
                context.close()
    finally:
        rtsp.stop()


def _seed_ppe_people(db: Path) -> None:
    """``seed_ppe_people`` straight into the service's database."""
    from tests.support.workflow_seeds import seed_ppe_people
    from workflow.persistence.engine import make_engine, make_session_factory
    from workflow.services.context import WorkflowContext

    engine = make_engine(f"sqlite:///{db}")
    seed_ppe_people(WorkflowContext(make_session_factory(engine)))
    engine.dispose()


def test_kpi_page_pools_ppe_compliance_over_people_in_both_languages(
    browser: Browser, tmp_path: Path
) -> None:
    with running_service(tmp_path) as svc:
        _seed_ppe_people(tmp_path / "var" / "hazardeye.db")
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
        page = context.new_page()
        sign_in(page, svc, "safety_engineer", "#/kpis")
        # 10 of 12 people = 83.3 %; the mean of the two areas' rates (90 % and 50 %) would be 70.0 %.
        tile = page.locator(".tile", has_text="PPE compliance (all people seen)")
        expect(tile.locator(".value")).to_have_text("83.3%")
        expect(page.locator("#ppe-note")).to_contain_text("10 of 12 people")
        page.locator("#lang").click()
        expect(page.locator(".tile", has_text="劳保用品合规率（按人次汇总）").locator(".value")).to_have_text(
            "83.3%"
        )
        expect(page.locator("#ppe-note")).to_contain_text("共识别 12 人次，其中 10 人次")
        # The printable sheet downloads with the page's key, range and language.
        with page.expect_download() as got:
            page.locator("#sheet-pdf").click()
        pdf = Path(got.value.path()).read_bytes()
        assert pdf.startswith(b"%PDF") and got.value.suggested_filename.endswith(".pdf")
        context.close()


def test_watched_regions_are_drawn_on_the_snapshot_at_phone_size_in_chinese(
    browser: Browser, tmp_path: Path
) -> None:
    if not gstreamer_available():
        pytest.fail("GStreamer RTSP server missing: run scripts/system-packages")
    rtsp = RtspServer(write_pattern_video(tmp_path / "pumps.mp4", seconds=120), mounts=1, live=True).start()
    cameras = {"cameras": [{"id": "pumps", "name": "泵房 Pump house", "url": rtsp.url(), "zone": "zone-pumps",
                            "interval_s": 1}]}  # fmt: skip
    config = tmp_path / "cameras.json"
    config.write_text(json.dumps(cameras))
    try:
        with running_service(tmp_path, HAZARDEYE_CAMERAS__CONFIG_FILE=str(config)) as svc:
            context = browser.new_context(
                viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
            )
            try:
                pg = context.new_page()
                errors: list[str] = []
                dialogs: list[str] = []
                pg.on("pageerror", lambda exc: errors.append(str(exc)))
                pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
                sign_in(pg, svc, "safety_engineer", "#/cameras")
                pg.locator("#lang").click()
                expect(pg.locator("html")).to_have_attribute("lang", "zh-CN")
                pg.wait_for_function(  # the camera's first frame (320 × 240) is on its tile
                    "() => { const i = document.querySelector('[data-camera=pumps] .snapshot img');"
                    " return i && i.src.startsWith('blob:') && i.naturalWidth === 320; }",
                    timeout=60_000,
                )
                pg.locator("[data-camera=pumps]").get_by_role("button", name="监视区域").click()
                expect(pg.locator("#watch-editor h2")).to_have_text("监视区域 · 泵房 Pump house")
                expect(pg.locator("#watch-source")).to_have_text("该摄像头尚未设置监视区域。")
                expect(pg.locator("#watch-unsaved")).to_be_hidden()  # nothing changed yet
                pg.wait_for_function(
                    "() => { const i = document.querySelector('#watch-stage img');"
                    " const s = document.querySelector('#watch-overlay');"
                    " return i && i.naturalWidth === 320 && s.getAttribute('viewBox') === '0 0 320 240'; }"
                )
                overlay = pg.locator("#watch-overlay")
                box = overlay.bounding_box()
                assert box is not None and box["width"] < 390  # the frame is scaled to the phone's width
                taps = [(0.2, 0.25), (0.7, 0.2), (0.75, 0.8), (0.25, 0.75)]  # fractions of the shown picture
                for fx, fy in taps:
                    overlay.tap(position={"x": fx * box["width"], "y": fy * box["height"]})
                expect(pg.locator("#draft-count")).to_have_text("4 个点")
                name = "<img src=x onerror=alert(1)>"
                pg.locator("#region-name").fill(name)
                pg.locator("#region-kind").select_option(label="泵密封")
                pg.get_by_role("button", name="闭合多边形").click()
                expect(overlay.locator("text.region-label")).to_have_text(name)  # text, not markup
                expect(pg.locator("#watch-regions .region-name")).to_have_text(name)
                expect(pg.locator("#watch-unsaved")).to_have_text(
                    "尚未保存：保存后摄像头才会监视上面的区域。"
                )
                pg.get_by_role("button", name="保存区域").click()
                expect(pg.locator("#watch-editor .msg")).to_have_text(
                    "已保存。摄像头将在 10 秒内启用这些区域，并从随后的画面学习其正常外观。"
                )
                expect(pg.locator("#watch-source")).to_contain_text("safety_engineer-1")
                expect(pg.locator("#watch-unsaved")).to_be_hidden()  # what is listed is what is watched
                assert pg.locator("img[src='x']").count() == 0 and dialogs == [] and errors == []
                widths = pg.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
                assert widths[0] <= widths[1] == 390, widths
                pg.evaluate("() => window.scrollTo(0, 0)")  # the sticky top bar at the top of the picture
                pg.screenshot(path="/tmp/watch_editor_zh.png", full_page=True)
            finally:
                context.close()
            # An inspector sees the regions (the name as text) but may not change them: the server says why.
            context = browser.new_context(
                viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
            )
            try:
                pg = context.new_page()
                sign_in(pg, svc, "inspector", "#/cameras")
                pg.locator("[data-camera=pumps] [data-action=watch]").click()
                expect(pg.locator("#watch-regions .region-name")).to_have_text(name)
                pg.locator("[data-action=use-file]").click()
                expect(pg.locator("#watch-editor .msg.error")).to_have_text(
                    "Your role may not do this. (role 'inspector' may not do this;"
                    " needs one of ['admin', 'safety_engineer'])"
                )
            finally:
                context.close()
            stored = svc.call("GET", "/api/v1/cameras/pumps/watch", role="inspector")
            assert isinstance(stored, dict)
            assert (stored["source"], stored["frame"]) == ("api", {"width": 320, "height": 240})
            (region,) = stored["regions"]
            assert (region["name"], region["kind"], stored["updated_by"]) == (
                name,
                "pump_seal",
                "safety_engineer-1",
            )
            # The taps in frame pixels: 0.2 × 320, 0.25 × 240 and so on.
            expected = [(64, 60), (224, 48), (240, 192), (80, 180)]
            assert len(region["points"]) == 4
            for (x, y), (ex, ey) in zip(region["points"], expected, strict=True):
                assert abs(x - ex) <= 3 and abs(y - ey) <= 3, (region["points"], expected)
    finally:
        rtsp.stop()


_REGION_BOXES = """() => {
  const o = document.querySelector('#watch-overlay').getBoundingClientRect();
  const rect = (r) => [r.left, r.top, r.right, r.bottom];
  return {
    frame: rect(o),
    regions: [...document.querySelectorAll('#watch-overlay text.region-label')].map((text, i) => {
      const poly = document.querySelector(`#watch-overlay polygon.region[data-region="${i}"]`);
      const halo = poly.previousElementSibling;
      const plate = text.parentNode.querySelector('rect.region-label-bg');
      return {
        name: text.textContent,
        font: parseFloat(text.getAttribute('font-size')) * o.height / 720,  // frame px → CSS px
        text: rect(text.getBoundingClientRect()),
        plate: plate ? rect(plate.getBoundingClientRect()) : null,
        poly: rect(poly.getBoundingClientRect()),
        stroke: getComputedStyle(poly).strokeWidth,
        halo: halo && halo.matches('polygon.region-halo') ? getComputedStyle(halo).strokeWidth : null,
      };
    }),
  };
}"""


def _draw_region(pg: Page, points: list[tuple[int, int]], name: str, kind: str) -> None:
    """Tap ``points`` (pixels of the 1280 × 720 frame) on the editor's overlay; name, kind and close it."""
    overlay = pg.locator("#watch-overlay")
    box = overlay.bounding_box()
    assert box is not None
    for x, y in points:
        overlay.tap(position={"x": x / 1280 * box["width"], "y": y / 720 * box["height"]})
    pg.locator("#region-name").fill(name)
    pg.locator("#region-kind").select_option(kind)
    pg.locator("[data-action=close-polygon]").click()


def _check_labels(pg: Page, names: list[str]) -> None:
    """Every region's name is ~13 CSS px on a plate just outside its polygon, inside the frame; the
    outline is 3 CSS px over a 7 px halo (the defect: a frame-width/26 font inside the polygon, 2 px)."""
    got = pg.evaluate(_REGION_BOXES)
    left, top, right, bottom = got["frame"]
    regions = got["regions"]
    for r in regions:
        r["frame"] = got["frame"]
    assert [r["name"] for r in regions] == names, regions
    for r in regions:
        tl, tt, tr, tb = r["text"]
        _, poly_top, _, poly_bottom = r["poly"]
        assert tb <= poly_top or tt >= poly_bottom, r  # above or below it: never over the watched area
        assert 12.5 <= r["font"] <= 13.5, r  # 13 CSS px whatever the frame's width
        assert 11 <= tb - tt <= 20, r  # the glyphs as drawn: a line of small text
        assert left - 0.5 <= tl and tr <= right + 0.5 and top - 0.5 <= tt and tb <= bottom + 0.5, r
        assert (r["stroke"], r["halo"]) == ("3px", "7px"), r
        assert r["plate"] is not None, r  # a dark plate under the name
        pl, pt, pr, pb = r["plate"]
        assert pl <= tl and tr <= pr and pt <= tt + 1 and tb <= pb + 1, r  # the name is on its plate
        assert left - 0.5 <= pl and pr <= right + 0.5 and top - 0.5 <= pt and pb <= bottom + 0.5, r
        assert pb <= poly_top or pt >= poly_bottom, r


def test_watched_region_names_are_small_and_beside_their_region_on_a_wide_frame(
    browser: Browser, tmp_path: Path
) -> None:
    # A 1280 × 720 picture (served in place of the snapshot: the camera itself is down) with an 85 px
    # high floor region: the trial's case, where the name covered the floor and ran past the polygon.
    ok, jpeg = cv2.imencode(".jpg", cv2.resize(cv2.imread(str(WITH_HEADS)), (1280, 720)))
    assert ok
    cameras = {"cameras": [{"id": "dock", "name": "Pump dock", "url": f"rtsp://127.0.0.1:{_free_port()}/cam0",
                            "zone": "zone-dock", "interval_s": 1, "open_timeout_s": 1}]}  # fmt: skip
    config = tmp_path / "cameras.json"
    config.write_text(json.dumps(cameras))
    shots = Path("/tmp/ui_fix")
    shots.mkdir(exist_ok=True)
    floor = [(200, 400), (900, 400), (900, 485), (200, 485)]  # mid-frame: the name goes above it
    valves = [(60, 8), (420, 8), (420, 90), (60, 90)]  # at the top edge: no room above, the name goes below
    rack = [(1120, 250), (1270, 250), (1270, 330), (1120, 330)]  # at the right edge: the name moves left
    regions, kinds = [floor, valves, rack], ["floor", "valve", "flange"]
    with running_service(tmp_path, HAZARDEYE_CAMERAS__CONFIG_FILE=str(config)) as svc:
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True,
            locale="en-US",
        )  # fmt: skip
        try:
            pg = context.new_page()
            errors: list[str] = []
            pg.on("pageerror", lambda exc: errors.append(str(exc)))
            picture = jpeg.tobytes()
            pg.route(
                "**/api/v1/cameras/dock/snapshot",
                lambda route: route.fulfill(status=200, content_type="image/jpeg", body=picture),
            )
            sign_in(pg, svc, "safety_engineer", "#/cameras")

            def open_editor(title: str) -> None:
                pg.locator("[data-camera=dock] [data-action=watch]").click()
                expect(pg.locator("#watch-editor h2")).to_have_text(title)
                pg.wait_for_function(
                    "() => document.querySelector('#watch-overlay')"
                    "?.getAttribute('viewBox') === '0 0 1280 720'"
                )

            open_editor("Watched regions · Pump dock")
            names = ["Floor by pump P-101", "Valve row V1–V4", "East rack flange F-7 (north side)"]
            for points, name, kind in zip(regions, names, kinds, strict=True):
                _draw_region(pg, points, name, kind)
            _check_labels(pg, names)
            got = pg.evaluate(_REGION_BOXES)["regions"]
            assert got[0]["plate"][3] <= got[0]["poly"][1] <= got[0]["plate"][3] + 4  # just above the floor
            assert got[1]["poly"][3] <= got[1]["plate"][1] <= got[1]["poly"][3] + 4  # just below the valves
            assert got[2]["plate"][0] < got[2]["poly"][0]  # moved left to stay in the frame
            pg.locator("#watch-stage").scroll_into_view_if_needed()
            pg.screenshot(path=str(shots / "watch_editor_en.png"))
            pg.locator("#watch-editor").screenshot(path=str(shots / "watch_editor_en_card.png"))
            # Wider screen (the same page on a desktop): still 13 px, drawn again for the new width.
            pg.set_viewport_size({"width": 1280, "height": 900})
            pg.wait_for_function(
                "() => { const t = document.querySelector('#watch-overlay text.region-label');"
                " const o = document.querySelector('#watch-overlay').getBoundingClientRect();"
                " return o.width > 900"
                " && Math.abs(parseFloat(t.getAttribute('font-size')) * o.width / 1280 - 13) < 0.5; }"
            )
            _check_labels(pg, names)
            pg.set_viewport_size({"width": 390, "height": 844})
            # In Chinese (the switch draws the page again: the unsaved regions are drawn anew).
            pg.locator("#lang").click()
            open_editor("监视区域 · Pump dock")
            names_zh = ["P-101 泵旁地面", "阀门排 V1–V4", "东侧管架法兰 F-7（北侧）"]
            for points, name, kind in zip(regions, names_zh, kinds, strict=True):
                _draw_region(pg, points, name, kind)
            _check_labels(pg, names_zh)
            pg.locator("#watch-stage").scroll_into_view_if_needed()
            pg.screenshot(path=str(shots / "watch_editor_zh.png"))
            pg.locator("#watch-editor").screenshot(path=str(shots / "watch_editor_zh_card.png"))
            pg.locator("[data-action=close-editor]").click()
            expect(pg.locator("[data-camera=dock] .cam-error")).to_have_text("连接被拒绝", timeout=30_000)
            pg.locator("#lang").click()
            expect(pg.locator("[data-camera=dock] .cam-error")).to_have_text("connection refused")
            pg.screenshot(path=str(shots / "camera_tile_en.png"))
            assert errors == []
        finally:
            context.close()


def _seed_suspected_leak(var: Path) -> int:
    """A watched region's suspected leak straight into the service's database and object folder: a
    snapshot and its before / now image (644 × 267, as the watcher draws them), then the hazard."""
    from serving.objects.local import LocalObjectStore
    from vision.images import encode_jpeg
    from workflow.domain.observations import Observation, SourceKind
    from workflow.persistence.engine import make_engine, make_session_factory
    from workflow.services.context import WorkflowContext
    from workflow.services.hazards import ingest_observation

    store = LocalObjectStore(var / "objects")
    snapshot = store.put(encode_jpeg(np.full((360, 480, 3), 120, np.uint8)), content_type="image/jpeg").key
    side = store.put(encode_jpeg(np.full((267, 644, 3), 60, np.uint8)), content_type="image/jpeg").key
    engine = make_engine(f"sqlite:///{var / 'hazardeye.db'}")
    obs = Observation(
        observation_id="watch-e2e-1", kind="leak.suspected", confidence=0.8, zone="pump-house",
        source_kind=SourceKind.CAMERA, source_id="cam-p",
        observed_at=datetime.now(UTC) - timedelta(seconds=5),
        evidence_keys=(snapshot, side), equipment_id="P-7 seal", likelihood=3, severity=4,
        description="疑似泄漏：P-7 seal（泵密封）出现类似泄漏的变化，已持续 2 分钟，占区域的 23%",
    )  # fmt: skip
    result = ingest_observation(WorkflowContext(make_session_factory(engine)), obs)
    engine.dispose()
    assert result.hazard_id is not None
    return result.hazard_id


def test_a_suspected_leak_shows_its_before_and_now_image_first_at_phone_size(
    browser: Browser, tmp_path: Path
) -> None:
    cameras = {"cameras": [{"id": "cam-p", "name": "泵房东侧", "url": f"rtsp://127.0.0.1:{_free_port()}/p",
                            "zone": "pump-house", "interval_s": 5, "open_timeout_s": 1}]}  # fmt: skip
    config = tmp_path / "cameras.json"
    config.write_text(json.dumps(cameras, ensure_ascii=False), encoding="utf-8")
    with running_service(tmp_path, HAZARDEYE_CAMERAS__CONFIG_FILE=str(config)) as svc:
        hazard_id = _seed_suspected_leak(tmp_path / "var")
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        page = context.new_page()
        sign_in(page, svc, "safety_engineer", f"#/hazards/{hazard_id}")
        figure = page.locator("#watched-change")
        expect(figure).to_be_visible()
        expect(page.locator("section.card", has=figure).locator("h2")).to_have_text("监视区域：变化前与现在")
        image = figure.locator("img")
        expect(image).to_have_js_property("naturalWidth", 644)  # the before / now image, not the snapshot
        shown, before_after = image.bounding_box(), page.locator("#before-after").bounding_box()
        assert shown is not None and before_after is not None
        assert shown["width"] >= 300  # the card's width on a phone, not a thumbnail
        assert shown["y"] < before_after["y"]  # above the raw snapshot's before/after card
        assert "zoomable" in (image.get_attribute("class") or "")
        expect(page.locator("#hazard-source")).to_have_text("摄像头 泵房东侧 (cam-p)")  # its name, not its id
        # Its evidence line gives the description, not the watcher's fixed "confidence" of 80 %.
        line = page.locator("ol.timeline li[data-kind=snapshot] p")
        expect(line).to_contain_text("描述：疑似泄漏：P-7 seal")
        expect(line).not_to_contain_text("置信度")
        context.close()
