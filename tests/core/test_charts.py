"""The dashboard image: a real PNG of the promised size that tracks the data it shows."""

from __future__ import annotations

import struct
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from core import charts, stats
from storage.db import Database
from tests.progress_seed import NOW, get_user, seed_history

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert png.endswith(b"IEND\xaeB`\x82")
    return width, height


@pytest.fixture
async def board(db: Database) -> stats.Dashboard:
    seeded = await seed_history(db)
    user = await get_user(db, seeded.user_id)
    async with db.session() as session:
        return await stats.load_dashboard(session, user, NOW)


def empty_board(board: stats.Dashboard) -> stats.Dashboard:
    return replace(
        board,
        summary=stats.WindowSummary(0, 0, 0, 0),
        topics=(),
        weak=(),
        activity=tuple(stats.DayActivity(day.day, 0, 0) for day in board.activity),
        calibration=(),
        forecast=tuple(stats.DueDay(day.day, 0) for day in board.forecast),
        streak=0,
        streak_days=frozenset(),
        xp=0,
    )


def texts(figure: object) -> list[str]:
    found = [t.get_text() for t in figure.texts]  # type: ignore[attr-defined]
    for ax in figure.axes:  # type: ignore[attr-defined]
        found += [ax.get_title(loc="left")] + [t.get_text() for t in ax.texts]
    return found


def test_the_dashboard_is_a_portrait_png_a_phone_can_show(board: stats.Dashboard) -> None:
    png = charts.render_dashboard(board)
    assert png_size(png) == charts.SIZE_PX == (1080, 1920)
    assert len(png) < 5 * 1024 * 1024  # far below Telegram's 10 MB photo limit


def test_the_picture_changes_when_the_data_does(board: stats.Dashboard) -> None:
    before = charts.render_dashboard(board)
    one_more_due = replace(board, forecast=(stats.DueDay(board.today, 5), *board.forecast[1:]))
    assert charts.render_dashboard(one_more_due) != before
    assert charts.render_dashboard(board) == before  # same data, same picture


def test_panels_show_the_numbers_and_mark_weak_topics(board: stats.Dashboard) -> None:
    shown = texts(charts.dashboard_figure(board))
    assert "30% of 10" in shown  # Cardiac muscle
    assert "Cardiac muscle" in shown and "Bone tissue" in shown
    assert "90%\n(10)" in shown  # right 90% of the time when certain
    assert "Reviews due, next 14 days: 9" in shown
    assert "Last 8 weeks: 47 answers · streak 2 days" in shown
    weak_bars = [
        patch
        for patch in charts.dashboard_figure(board).axes[0].patches
        if patch.get_hatch() == "//"
    ]
    assert len(weak_bars) == 2  # Cardiac and Skeletal muscle, the two below 80% lately


def test_topics_beyond_eight_are_summarised_not_squeezed(board: stats.Dashboard) -> None:
    many = tuple(stats.TopicAccuracy(f"Topic {i:02d}", 10 + i, i) for i in range(12))
    crowded = replace(board, topics=many, weak=(many[0],))
    shown = charts.shown_topics(crowded)
    assert len(shown) == charts.MAX_TOPICS
    assert shown[0].topic == "Topic 00"  # the weak one, weakest on top
    axis = charts.dashboard_figure(crowded).axes[0]
    assert axis.get_xlabel() == f"+{12 - charts.MAX_TOPICS} more topics"


def test_a_new_student_sees_sentences_instead_of_empty_axes(board: stats.Dashboard) -> None:
    empty = empty_board(board)
    png = charts.render_dashboard(empty)
    assert png_size(png) == (1080, 1920)
    shown = texts(charts.dashboard_figure(empty))
    assert shown.count("No answers yet — try /quiz") == 3
    assert "Nothing due — new cards come from /quiz" in shown
    for ax in charts.dashboard_figure(empty).axes:
        assert len(ax.patches) == 0 and len(ax.lines) == 0


def test_answers_without_confidence_ask_for_it(board: stats.Dashboard) -> None:
    shown = texts(charts.dashboard_figure(replace(board, calibration=())))
    assert any("Say how sure you are" in text for text in shown)


async def test_files_go_under_the_students_chart_dir_and_old_ones_are_cleaned(
    board: stats.Dashboard, tmp_path: Path
) -> None:
    directory = charts.charts_dir(tmp_path, 7)
    paths = [
        await charts.render_dashboard_file(board, directory, NOW + timedelta(seconds=i))
        for i in range(5)
    ]
    assert directory == tmp_path / "charts" / "7"
    assert sorted(directory.iterdir()) == paths[-charts.KEEP_CHARTS :]
    assert paths[-1].name == "stats-20260310T160004000000.png"
    assert png_size(paths[-1].read_bytes()) == (1080, 1920)
