"""Reading an uploaded Loop export: zip checks before any row is read (no servers)."""

from __future__ import annotations

import io
import zipfile

import pytest

from services.gateway.health.errors import ExportTooLarge, InvalidExport, MalformedExport
from services.gateway.portability.archive import read_upload

HABITS = "Position,Name,Question,Description,NumRepetitions,Interval,Color\n001,Walk,,,1,1,#fff\n"


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_reads_habits_and_numbered_folders_and_lists_the_rest() -> None:
    files = read_upload(
        zipped(
            {
                "Habits.csv": HABITS,
                "001 Walk/Checkmarks.csv": "Date,Value\n",
                "001 Walk/Scores.csv": "Date,Score\n",
                "Scores.csv": "",
            }
        ),
        10**6,
    )
    assert files.habits == HABITS
    assert files.checkmarks == {1: ("001 Walk/Checkmarks.csv", "Date,Value\n")}
    assert sorted(files.ignored) == ["001 Walk/Scores.csv", "Scores.csv"]


def test_a_rezipped_export_in_a_folder_is_read() -> None:
    files = read_upload(
        zipped({"Loop/Habits.csv": HABITS, "Loop/001 Walk/Checkmarks.csv": "Date,Value\n"}), 10**6
    )
    assert 1 in files.checkmarks


def test_a_bare_csv_is_habits_only() -> None:
    assert read_upload(HABITS.encode(), 10**6).checkmarks == {}


def test_truncated_and_empty_bodies_are_malformed() -> None:
    body = zipped({"Habits.csv": HABITS * 50})
    with pytest.raises(MalformedExport):
        read_upload(body[: len(body) // 2], 10**6)
    with pytest.raises(MalformedExport):
        read_upload(b"", 10**6)


def test_a_zip_without_habits_or_with_binary_text_is_invalid() -> None:
    with pytest.raises(InvalidExport):
        read_upload(zipped({"notes.txt": "hi"}), 10**6)
    with pytest.raises(InvalidExport):
        read_upload(b"\xff\xfe\x00\x01", 10**6)


def test_a_zip_bomb_stops_at_the_limit() -> None:
    bomb = zipped({"Habits.csv": HABITS, "001 Walk/Checkmarks.csv": "0" * 2_000_000})
    assert len(bomb) < 50_000
    with pytest.raises(ExportTooLarge):
        read_upload(bomb, 1_000_000)
