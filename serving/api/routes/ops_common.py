"""Shared bits of the operations routers (cameras, zones, permits, sensors, alerts)."""

from __future__ import annotations

from fastapi import Request

from serving.pipelines.camera_board import CameraBoard

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def camera_board(request: Request) -> CameraBoard:
    """The board of the camera monitor (``hazardeye serve`` sets ``app.state.camera_board``); an
    empty board when this process polls no cameras."""
    board = getattr(request.app.state, "camera_board", None)
    if not isinstance(board, CameraBoard):
        board = CameraBoard()
        request.app.state.camera_board = board
    return board
