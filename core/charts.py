"""The /stats dashboard: one portrait PNG with four panels, drawn from a `Dashboard`.

Panels, top to bottom: accuracy by topic (weakest highlighted), daily activity for the last
8 weeks (streak marked), confidence calibration against the ideal diagonal, and the 14-day
review forecast. Made for a phone: 1080 x 1920 px, large type, the Okabe-Ito colour-blind
safe palette plus hatching so no meaning rests on colour alone, and a sentence instead of
empty axes when a panel has nothing to show.

Matplotlib's object API (Figure + Agg canvas, never pyplot) keeps renders independent, so
they can run in a worker thread while the event loop carries on.
"""

from __future__ import annotations

import asyncio
import io
import os
from datetime import datetime
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from core.stats import CONFIDENCE_TARGET, Dashboard, TopicAccuracy
from core.xp import level_for

# Okabe & Ito (2008), distinguishable with every common colour-vision deficiency.
BLUE = "#0072B2"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
SKY = "#56B4E9"
GREEN = "#009E73"
GREY = "#6B6B6B"
INK = "#1A1A1A"

WIDTH_IN, HEIGHT_IN, DPI = 7.2, 12.8, 150
SIZE_PX = (round(WIDTH_IN * DPI), round(HEIGHT_IN * DPI))  # 1080 x 1920, 9:16 like a phone
TITLE_PT, LABEL_PT, SMALL_PT = 17, 14, 12
FULL_LEFT, FULL_WIDTH = 0.06, 0.90
MAX_TOPICS = 7
TOPIC_CHARS = 38
KEEP_CHARTS = 3  # per student: the one just sent plus a couple an adapter may still upload

CONFIDENCE_LABELS = ("guess", "unsure", "fairly\nsure", "sure", "certain")
NO_ANSWERS = "No answers yet — try /quiz"


def _topic_name(topic: str) -> str:
    name = topic or "(no topic)"
    return name if len(name) <= TOPIC_CHARS else name[: TOPIC_CHARS - 1] + "…"


def _empty(ax: Axes, title: str, message: str) -> None:
    # Full width: without tick labels there is nothing to make room for on the left.
    box = ax.get_position()
    ax.set_position((FULL_LEFT, box.y0, FULL_WIDTH, box.height))
    ax.set_title(title, loc="left", fontsize=TITLE_PT, color=INK, fontweight="bold")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_facecolor("#F2F2F2")
    ax.text(
        0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center",
        fontsize=LABEL_PT + 1, color=GREY, wrap=True,
    )  # fmt: skip


def _style(ax: Axes, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=TITLE_PT, color=INK, fontweight="bold")
    ax.tick_params(labelsize=SMALL_PT, colors=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def shown_topics(board: Dashboard) -> list[TopicAccuracy]:
    """Up to MAX_TOPICS: the weak ones first, then the most practised; weakest on top."""
    weak_names = {t.topic for t in board.weak}
    by_name = {t.topic: t for t in board.topics}
    chosen = [by_name[name] for name in weak_names if name in by_name]
    for topic in board.topics:  # already most practised first
        if len(chosen) >= MAX_TOPICS:
            break
        if topic.topic not in weak_names:
            chosen.append(topic)
    return sorted(chosen, key=lambda t: (t.accuracy, -t.attempts, t.topic))


BAR = 0.36  # bar thickness in rows; the rest of a row holds the topic's name


def _topics_panel(ax: Axes, board: Dashboard) -> None:
    title = "Accuracy by topic"
    topics = shown_topics(board)
    if not topics:
        _empty(ax, title, NO_ANSWERS)
        return
    _style(ax, title)
    weak_names = {t.topic for t in board.weak}
    rows = range(len(topics))
    # A pale full-width track behind every bar, so 0% still reads as a bar, not a gap.
    ax.barh(rows, [1.0] * len(topics), height=BAR, color="#ECECEC", linewidth=0)
    for weak in (False, True):  # one call per look: each bar() call costs a few ms
        chosen = [(row, t) for row, t in zip(rows, topics, strict=True)
                  if (t.topic in weak_names) is weak]  # fmt: skip
        if chosen:
            ax.barh(
                [row for row, _ in chosen], [t.accuracy for _, t in chosen], height=BAR,
                color=VERMILLION if weak else BLUE, hatch="//" if weak else None,
                edgecolor="white", linewidth=0,
            )  # fmt: skip
    for row, topic in zip(rows, topics, strict=True):
        weak = topic.topic in weak_names
        # Name and figures sit above their bar, so long names get the full phone width.
        above = row - BAR / 2 - 0.04
        ax.text(0, above, _topic_name(topic.topic), fontsize=LABEL_PT, color=INK, va="bottom")
        ax.text(
            1, above, f"{topic.accuracy:.0%} of {topic.attempts}", fontsize=LABEL_PT,
            color=INK, va="bottom", ha="right", fontweight="bold" if weak else "normal",
        )  # fmt: skip
    # Always room for MAX_TOPICS rows, so a few topics keep the same bar size as many.
    ax.set_ylim(max(len(topics), MAX_TOPICS) - 0.6, -0.9)
    ax.set_xlim(0, 1)
    ax.set_yticks([])
    ax.set_xticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if weak_names:
        ax.legend(
            handles=[Patch(facecolor=VERMILLION, hatch="//", label="weak lately")],
            loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=SMALL_PT, frameon=False,
            borderaxespad=0.1,
        )  # fmt: skip
    hidden = len(board.topics) - len(topics)
    if hidden > 0:
        ax.set_xlabel(f"+{hidden} more topics", fontsize=SMALL_PT, color=GREY, loc="right")


def _activity_panel(ax: Axes, board: Dashboard) -> None:
    answered = sum(day.answered for day in board.activity)
    streak = f" · streak {board.streak} day{'s' if board.streak != 1 else ''}"
    title = f"Last 8 weeks: {answered} answers{streak if board.streak else ''}"
    if not answered:
        _empty(ax, "Last 8 weeks", NO_ANSWERS)
        return
    _style(ax, title)
    # 56 bars as two thick line collections rather than 56 Rectangle patches: the same
    # picture at a fraction of the drawing cost. Bar width is set in points, from the
    # panel's width, so it stays 75% of a day's slot.
    slot_pt = ax.get_position().width * WIDTH_IN * 72 / (len(board.activity) + 0.4)
    for in_streak, colour in ((False, SKY), (True, ORANGE)):
        days = [(x, d) for x, d in enumerate(board.activity)
                if d.answered and (d.day in board.streak_days) is in_streak]  # fmt: skip
        if days:
            ax.vlines(
                [x for x, _ in days], 0, [d.answered for _, d in days], colors=colour,
                linewidth=slot_pt * 0.75, capstyle="butt",
            )  # fmt: skip
    streak_x = [x for x, d in enumerate(board.activity) if d.day in board.streak_days]
    if streak_x:
        # Not by colour alone: a bracket over the streak days says "streak" in words too.
        peak = max(board.activity[x].answered for x in streak_x)
        ax.plot([min(streak_x) - 0.4, max(streak_x) + 0.4], [peak * 1.08] * 2, color=INK,
                linewidth=1.5, solid_capstyle="butt")  # fmt: skip
        ax.text((min(streak_x) + max(streak_x)) / 2, peak * 1.1, "streak", ha="center",
                va="bottom", fontsize=SMALL_PT, color=INK)  # fmt: skip
    if board.daily_goal:
        ax.axhline(board.daily_goal, color=INK, linestyle="--", linewidth=1.2)
        ax.text(
            0, board.daily_goal, f" goal {board.daily_goal}", fontsize=SMALL_PT, color=INK,
            va="bottom",
        )  # fmt: skip
    ticks = list(range(len(board.activity) - 1, -1, -14))[::-1]
    ax.set_xticks(ticks, [board.activity[i].day.strftime("%-d %b") for i in ticks])
    ax.set_xlim(-0.7, len(board.activity) - 0.3)
    ax.set_ylabel("answers", fontsize=SMALL_PT, color=INK)
    handles = [Patch(facecolor=SKY, label="studied")]
    if board.streak_days:
        handles.insert(0, Patch(facecolor=ORANGE, label="current streak"))
    ax.legend(handles=handles, loc="upper left", fontsize=SMALL_PT, frameon=False)
    top = max(max(day.answered for day in board.activity), board.daily_goal)
    ax.set_ylim(0, top * 1.45)


def _calibration_panel(ax: Axes, board: Dashboard) -> None:
    title = "When you feel sure, are you right?"
    if not board.calibration:
        message = (
            NO_ANSWERS
            if not board.topics
            else "Say how sure you are after each answer\nto see your calibration"
        )
        _empty(ax, title, message)
        return
    _style(ax, title)
    levels = sorted(CONFIDENCE_TARGET)
    ax.plot(
        levels, [CONFIDENCE_TARGET[level] for level in levels], linestyle="--", color=GREY,
        linewidth=1.5, label="ideal",
    )  # fmt: skip
    xs = [p.confidence for p in board.calibration]
    ys = [p.accuracy for p in board.calibration]
    ax.plot(xs, ys, color=VERMILLION, linewidth=2.2, marker="o", markersize=11, label="you")
    for point in board.calibration:
        # The label goes on the side away from the diagonal, unless that leaves the axes.
        below = point.accuracy < point.target
        if point.accuracy < 0.3:
            below = False
        elif point.accuracy > 0.85:
            below = True
        ax.annotate(
            f"{point.accuracy:.0%}\n({point.attempts})", (point.confidence, point.accuracy),
            textcoords="offset points", xytext=(0, -40 if below else 12),
            ha="center", fontsize=SMALL_PT, color=INK,
        )  # fmt: skip
    ax.set_xticks(levels, CONFIDENCE_LABELS)
    ax.set_xlim(0.6, 5.4)
    ax.set_ylim(0, 1.08)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_ylabel("answered right", fontsize=SMALL_PT, color=INK)
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.8)
    ax.legend(loc="upper left", fontsize=SMALL_PT, frameon=False)


def _forecast_panel(ax: Axes, board: Dashboard) -> None:
    total = sum(day.due for day in board.forecast)
    title = f"Reviews due, next 14 days: {total}"
    if not total:
        _empty(ax, "Reviews due, next 14 days", "Nothing due — new cards come from /quiz")
        return
    _style(ax, title)
    xs = range(len(board.forecast))
    colours = [VERMILLION if i == 0 else GREEN for i in xs]
    bars = ax.bar(xs, [day.due for day in board.forecast], width=0.75, color=colours)
    bars[0].set_hatch("//")
    for x, day in zip(xs, board.forecast, strict=True):
        if day.due:
            ax.text(x, day.due, str(day.due), ha="center", va="bottom", fontsize=SMALL_PT)
    labels = [
        "today" if i == 0 else f"{day.day.strftime('%a')[:2]}\n{day.day.day}"
        for i, day in enumerate(board.forecast)
    ]
    ax.set_xticks(list(xs), labels)
    ax.tick_params(axis="x", labelsize=SMALL_PT - 1)
    ax.set_ylim(0, max(day.due for day in board.forecast) * 1.25)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)


def dashboard_figure(board: Dashboard) -> Figure:
    """The dashboard as a matplotlib Figure on its own Agg canvas (no global pyplot state)."""
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    level = level_for(board.xp)
    figure.text(0.06, 0.972, "Your progress", fontsize=TITLE_PT + 5, fontweight="bold", color=INK)
    figure.text(
        0.06, 0.952, f"{board.today:%a %-d %b %Y} · level {level} · {board.xp:,} XP",
        fontsize=LABEL_PT, color=GREY,
    )  # fmt: skip
    # Hand-placed rectangles (left, bottom, width, height): faster than a layout engine
    # and the same every time, so a phone user always finds a panel in the same spot.
    rects = (
        (FULL_LEFT, 0.655, FULL_WIDTH, 0.255),
        (0.10, 0.465, 0.86, 0.14),
        (0.14, 0.25, 0.82, 0.16),
        (FULL_LEFT, 0.045, FULL_WIDTH, 0.12),
    )
    panels = (_topics_panel, _activity_panel, _calibration_panel, _forecast_panel)
    for rect, draw in zip(rects, panels, strict=True):
        draw(figure.add_axes(rect), board)
    return figure


def render_dashboard(board: Dashboard) -> bytes:
    """The dashboard as PNG bytes of SIZE_PX. Pure: no files touched."""
    figure = dashboard_figure(board)
    buffer = io.BytesIO()
    # Fast zlib level: the PNG is 2-3x larger but encodes in a fraction of the time.
    figure.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def write_dashboard(board: Dashboard, directory: Path, now: datetime) -> Path:
    """Renders into `directory` (atomically) and removes all but the newest KEEP_CHARTS."""
    directory.mkdir(parents=True, exist_ok=True)
    png = render_dashboard(board)
    path = directory / f"stats-{now:%Y%m%dT%H%M%S%f}.png"
    partial = path.with_suffix(".png.part")
    try:
        partial.write_bytes(png)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    for old in sorted(directory.glob("stats-*.png"), reverse=True)[KEEP_CHARTS:]:
        old.unlink(missing_ok=True)
    return path


def charts_dir(data_dir: Path, user_id: int) -> Path:
    """Where one student's rendered charts live inside the data dir."""
    return data_dir / "charts" / str(user_id)


async def render_dashboard_file(board: Dashboard, directory: Path, now: datetime) -> Path:
    """`write_dashboard` in a worker thread, so a render never blocks other chats."""
    return await asyncio.to_thread(write_dashboard, board, directory, now)
