"""Round scoring, streaks, ranking, the timeline and the limits of /round."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import rounds
from core.rounds import (
    AnswerRecord,
    ItemTiming,
    RoundLimitError,
    RoundRequest,
    ShownQuestion,
    StepKind,
    answer_points,
    parse_round_request,
    rank_standings,
    streak_before,
)
from core.texts import rounds as round_texts

T0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


# --- scoring -------------------------------------------------------------------------------


def test_documented_examples() -> None:
    # The worked example in the module docstring, 5-second questions.
    assert answer_points(correct=True, time_ms=1000, window_ms=5000, streak_before=0) == 900
    assert answer_points(correct=True, time_ms=2500, window_ms=5000, streak_before=1) == 850
    assert answer_points(correct=False, time_ms=100, window_ms=5000, streak_before=3) == 0


def test_instant_right_answer_scores_1000_and_one_at_the_buzzer_500() -> None:
    assert answer_points(correct=True, time_ms=0, window_ms=30_000, streak_before=0) == 1000
    assert answer_points(correct=True, time_ms=30_000, window_ms=30_000, streak_before=0) == 500


def test_streak_bonus_grows_by_100_and_caps_at_500() -> None:
    points = [
        answer_points(correct=True, time_ms=30_000, window_ms=30_000, streak_before=s)
        for s in range(8)
    ]
    assert points == [500, 600, 700, 800, 900, 1000, 1000, 1000]


@given(
    t1=st.integers(-1000, 200_000),
    t2=st.integers(-1000, 200_000),
    window=st.integers(1000, 120_000),
    streak=st.integers(0, 50),
)
def test_faster_never_scores_less_and_right_always_beats_wrong(
    t1: int, t2: int, window: int, streak: int
) -> None:
    fast, slow = sorted((t1, t2))
    right_fast = answer_points(correct=True, time_ms=fast, window_ms=window, streak_before=streak)
    right_slow = answer_points(correct=True, time_ms=slow, window_ms=window, streak_before=streak)
    wrong = answer_points(correct=False, time_ms=fast, window_ms=window, streak_before=streak)
    assert right_fast >= right_slow >= rounds.BASE_POINTS > wrong == 0
    assert right_fast <= rounds.BASE_POINTS + rounds.SPEED_POINTS + 500


@given(st.lists(st.one_of(st.none(), st.booleans()), max_size=20))
def test_streak_counts_the_trailing_right_answers(results: list[bool | None]) -> None:
    count = streak_before(results)
    assert all(result is True for result in results[len(results) - count :])
    if count < len(results):
        assert results[len(results) - count - 1] is not True


def test_an_unanswered_question_breaks_the_streak() -> None:
    assert streak_before([True, True, None, True]) == 1
    assert streak_before([True, False]) == 0
    assert streak_before([]) == 0


# --- ranking -------------------------------------------------------------------------------


def _record(user_id: int, name: str, correct: bool, score: int, ms: int = 1000) -> AnswerRecord:
    return AnswerRecord(user_id, name, correct, score, ms)


def test_ranking_by_score_then_right_answers_with_accuracy() -> None:
    standings = rank_standings(
        [
            _record(1, "Ann", True, 900),
            _record(1, "Ann", False, 0),
            _record(2, "Bea", True, 800),
            _record(2, "Bea", True, 700),
            _record(3, "Cy", False, 0),
        ]
    )
    assert [(s.rank, s.name, s.score, s.correct, s.answered) for s in standings] == [
        (1, "Bea", 1500, 2, 2),
        (2, "Ann", 900, 1, 2),
        (3, "Cy", 0, 0, 1),
    ]
    assert [s.accuracy for s in standings] == [1.0, 0.5, 0.0]


def test_equal_score_and_right_answers_share_a_rank_and_the_faster_is_listed_first() -> None:
    standings = rank_standings(
        [
            _record(1, "Ann", True, 700, ms=4000),
            _record(2, "Bea", True, 700, ms=2000),
            _record(3, "Cy", True, 600),
        ]
    )
    assert [(s.rank, s.name) for s in standings] == [(1, "Bea"), (1, "Ann"), (3, "Cy")]


@given(
    st.lists(
        st.tuples(st.integers(1, 6), st.booleans(), st.integers(0, 1500), st.integers(0, 9999)),
        max_size=40,
    )
)
def test_ranking_is_ordered_and_counts_every_answer(
    rows: list[tuple[int, bool, int, int]],
) -> None:
    records = [AnswerRecord(u, f"m{u}", c, s, t) for u, c, s, t in rows]
    standings = rank_standings(records)
    assert sum(s.answered for s in standings) == len(records)
    assert sum(s.score for s in standings) == sum(r.score for r in records)
    keys = [(-s.score, -s.correct) for s in standings]
    assert keys == sorted(keys)
    assert all(a.rank <= b.rank for a, b in itertools.pairwise(standings))
    assert all(1 <= s.rank <= i + 1 for i, s in enumerate(standings))


# --- the timeline --------------------------------------------------------------------------


def test_timeline_countdown_post_close_pause_finish() -> None:
    step = rounds.next_step(started_at=T0, planned=2, last=None)
    assert (step.kind, step.position, step.at) == (StepKind.POST, 0, T0 + timedelta(seconds=5))
    posted = T0 + timedelta(seconds=5)
    open_item = ItemTiming(0, closes_at=posted + timedelta(seconds=30))
    step = rounds.next_step(started_at=T0, planned=2, last=open_item)
    assert (step.kind, step.at) == (StepKind.CLOSE, posted + timedelta(seconds=30))
    closed = ItemTiming(0, open_item.closes_at, closed_at=open_item.closes_at)
    step = rounds.next_step(started_at=T0, planned=2, last=closed)
    assert (step.kind, step.position) == (StepKind.POST, 1)
    assert step.at == closed.closed_at + timedelta(seconds=rounds.REVEAL_SECONDS)
    last_closed = ItemTiming(1, closed.closes_at, closed_at=closed.closes_at)
    assert rounds.next_step(started_at=T0, planned=2, last=last_closed).kind is StepKind.FINISH


# --- /round arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), RoundRequest("", 10, 30)),
        (("cardiology", "10", "30"), RoundRequest("cardiology", 10, 30)),
        (("heart", "valves", "5"), RoundRequest("heart valves", 5, 30)),
        (("3", "5"), RoundRequest("", 3, 5)),
        (("cardiac output", "4", "20s"), RoundRequest("cardiac output", 4, 20)),
        (("20s",), RoundRequest("", 10, 20)),
        (("19.5", "heart"), RoundRequest("19.5 heart", 10, 30)),
    ],
)
def test_round_arguments(args: tuple[str, ...], expected: RoundRequest) -> None:
    assert parse_round_request(args) == expected


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("heart", "50"), "1 to 20 questions; you asked for 50"),
        (("heart", "0"), "you asked for 0"),
        (("heart", "5", "2"), "5 to 120 seconds; you asked for 2"),
        (("5", "600"), "you asked for 600"),
    ],
)
def test_limits_are_refused_with_a_friendly_message(args: tuple[str, ...], says: str) -> None:
    with pytest.raises(RoundLimitError) as caught:
        parse_round_request(args)
    assert says in caught.value.user_message
    assert "/round" in caught.value.user_message


# --- what the group sees -------------------------------------------------------------------


def _shown() -> ShownQuestion:
    return ShownQuestion(
        position=1,
        total=3,
        seconds=5,
        stem="Which valve prevents backflow into the right atrium?",
        options=("Mitral", "Tricuspid", "Aortic", "Pulmonary"),
        key=1,
    )


def test_closed_question_shows_key_votes_fastest_and_standings() -> None:
    standings = rank_standings([_record(1, "Ann", True, 900), _record(2, "Bea", False, 0)])
    text = round_texts.closed_text(
        rounds.QuestionResult(
            _shown(), (1, 1, 0, 0), rounds.Fastest("Ann", 1000), tuple(standings)
        )
    )
    assert "Question 2/3 · closed" in text
    assert "B. Tricuspid ✅ · 1 vote" in text
    assert "A. Mitral · 1 vote" in text
    assert "C. Aortic · 0 votes" in text
    assert "Answer: B. Tricuspid" in text
    assert "Fastest right: Ann (1.0 s)" in text
    assert "Standings: 1. Ann 900 · 2. Bea 0" in text


def test_closed_question_nobody_answered() -> None:
    text = round_texts.closed_text(rounds.QuestionResult(_shown(), (0, 0, 0, 0), None))
    assert "Nobody answered." in text


def test_final_board_lists_ranks_scores_and_accuracy() -> None:
    standings = rank_standings(
        [_record(1, "Ann", True, 900), _record(1, "Ann", False, 0), _record(2, "Bea", True, 700)]
    )
    text = round_texts.final_text(standings, total=2, topic="valves")
    lines = text.splitlines()
    assert lines[0] == "Round over · valves"
    assert lines[2] == "🥇 Ann · 900 pts · 1/2 right (50%)"
    assert lines[3] == "🥈 Bea · 700 pts · 1/1 right (100%)"


def test_a_big_group_board_lists_the_top_and_counts_the_rest() -> None:
    standings = rank_standings([_record(i, f"M{i:02d}", True, 1000 - i) for i in range(25)])
    text = round_texts.final_text(standings, total=1)
    assert "M19" in text and "M20" not in text
    assert "… and 5 more" in text


def test_answer_payload_fits_a_telegram_button() -> None:
    payload = rounds.answer_payload("A" * 16, 7)
    assert payload.startswith("ra:")
    assert len(payload.encode()) <= 64
