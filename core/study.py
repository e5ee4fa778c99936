"""Quiz and review sessions: the plan, asking, answering, confidence, the reveal, the summary.

The live state of a session is its rows (quiz_sessions + quiz_items), so a restart loses
nothing: `current_step` picks up exactly where the student stopped. Every button is checked
here, server-side: the token must name an existing item of an active session owned by the
clicking student, in the state the button expects. A check that fails raises a RoundsError
with a short message, and because the router commits once per event, nothing is recorded.

Answer time is `received_at` of the click minus the item's `sent_at` (set when the adapter
delivered the question, else when it was created).
"""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core import circulation, stats
from core.adaptive import AnswerSample, StudentLevel, student_level, target_difficulty
from core.buttons import new_token
from core.errors import RoundsError
from core.grading import Answer, record_answer
from core.quality import UNRATED_QUALITY
from core.readers.formats import cited_pages, page_unit
from core.srs import user_zone
from core.streaks import StreakEvent
from storage.enums import AttemptSource, ItemState, SessionKind, SessionState
from storage.models import Question, QuizItem, QuizSession, User
from storage.repos import study as repo
from storage.repos.cards import count_due

DEFAULT_QUIZ_LENGTH = 10
MAX_QUIZ_LENGTH = 30
REVIEW_BATCH = 20
LETTERS = "ABCDEFGHIJ"
# All of a student's answers, for "which question of this topic did they see".
_BEGINNING_OF_TIME = datetime(2000, 1, 1, tzinfo=UTC)
# Options that only make sense in the last place keep it when the rest are shuffled.
_PINNED_LAST = re.compile(r"^\s*(all|none|both)\s+of\s+the\s+above", re.IGNORECASE)

# Called as supply(how_many, difficulty) when the scope lacks unseen questions.
QuestionSupply = Callable[[int, int], Awaitable[object]]


class StaleButton(RoundsError):
    user_message = "That button is from an older message. Send /quiz to carry on."


class NotYourQuestion(RoundsError):
    user_message = "That question belongs to someone else's quiz. Send /quiz to start your own."


class AlreadyAnswered(RoundsError):
    user_message = "You already answered that one; your first answer counts."


class AnswerFirst(RoundsError):
    user_message = "Pick an answer first, then tell me how sure you were."


class QuizEnded(RoundsError):
    user_message = "That quiz has ended. Send /quiz to start a new one."


class InvalidChoice(RoundsError):
    user_message = "That button is not valid any more. Send /quiz to carry on."


class NoActiveSession(RoundsError):
    user_message = "No quiz in progress. Send /quiz to start one, or /review for due cards."


class NothingToStudy(RoundsError):
    user_message = "There is nothing to quiz you on yet. Send me a PDF first."


class NoQuestionsOnTopic(RoundsError):
    user_message = "I have no questions on that topic. Try /topics to see what I have."


@dataclass(frozen=True)
class Asked:
    """A question to show: its options in the shown order, and the token its buttons carry."""

    token: str
    position: int
    total: int
    kind: SessionKind
    stem: str
    options: tuple[str, ...]
    topic: str
    difficulty: int
    resumed: bool = False


@dataclass(frozen=True)
class AwaitingConfidence:
    """An answer is recorded; the student still has to say how sure they were."""

    token: str
    position: int
    total: int
    kind: SessionKind
    stem: str
    chosen_letter: str
    chosen_text: str


Step = Asked | AwaitingConfidence


@dataclass(frozen=True)
class Reveal:
    stem: str
    correct: bool
    chosen_letter: str
    chosen_text: str
    key_letter: str
    key_text: str
    explanation: str
    source: str
    confidence: int | None
    quality: int
    time_ms: int
    xp: int
    total_xp: int
    level: int
    leveled_up: bool
    streak: int
    streak_event: StreakEvent
    due_at: datetime
    interval_days: int
    tz: str
    # The answered item's token: the reveal's "Report a problem" button names it.
    token: str = ""


@dataclass(frozen=True)
class TopicAccuracy:
    topic: str
    attempts: int
    correct: int
    question_id: int | None

    @property
    def accuracy(self) -> float:
        return self.correct / self.attempts if self.attempts else 0.0


@dataclass(frozen=True)
class Summary:
    kind: SessionKind
    state: SessionState
    total: int
    answered: int
    correct: int
    skipped: int
    duration: timedelta
    xp: int
    total_xp: int
    level: int
    streak: int
    best_streak: int
    weakest: TopicAccuracy | None
    due_now: int


# --- starting ------------------------------------------------------------------------------


async def active_session(session: AsyncSession, user: User) -> QuizSession | None:
    return await repo.active_session_for(session, user.id)


async def difficulty_for(session: AsyncSession, user: User, topic: str = "") -> int:
    """The level of new questions: the student's pinned level, else adaptive per topic."""
    if user.difficulty is not None:
        return int(user.difficulty)
    recent = await repo.recent_answers(session, user.id, topic=topic)
    return target_difficulty([AnswerSample(a.correct, a.difficulty) for a in recent])


async def student_level_for(session: AsyncSession, user: User, topic: str = "") -> StudentLevel:
    """The student's recent accuracy in `topic`, for the writer of their new questions."""
    recent = await repo.recent_answers(session, user.id, topic=topic)
    return student_level([AnswerSample(a.correct, a.difficulty) for a in recent])


async def unseen_shortfall(
    session: AsyncSession,
    *,
    user: User,
    scope_id: int,
    topic: str = "",
    exact_topic: bool = False,
    n: int = DEFAULT_QUIZ_LENGTH,
) -> tuple[int, int]:
    """(new questions a quiz of `n` lacks, the student's level for them). Reads only."""
    n = max(1, min(MAX_QUIZ_LENGTH, n))
    level = await difficulty_for(session, user, topic)
    unseen = await repo.unseen_question_ids(
        session, scope_id=scope_id, user_id=user.id, topic=topic, exact_topic=exact_topic,
        near_difficulty=level, limit=n,
    )  # fmt: skip
    return n - len(unseen), level


async def has_material(session: AsyncSession, scope_id: int) -> bool:
    return await repo.has_ready_material(session, scope_id)


async def start_quiz(
    session: AsyncSession,
    *,
    user: User,
    scope_id: int,
    chat_id: int | None,
    now: datetime,
    topic: str = "",
    exact_topic: bool = False,
    n: int = DEFAULT_QUIZ_LENGTH,
    supply: QuestionSupply | None = None,
) -> QuizSession:
    """Plans a quiz: unseen questions first, `supply` for the shortfall, then seen ones."""
    n = max(1, min(MAX_QUIZ_LENGTH, n))
    level = await difficulty_for(session, user, topic)
    plan = await repo.unseen_question_ids(
        session, scope_id=scope_id, user_id=user.id, topic=topic, exact_topic=exact_topic,
        near_difficulty=level, limit=n, unrated_quality=UNRATED_QUALITY,
    )  # fmt: skip
    supply_error: RoundsError | None = None
    if len(plan) < n and supply is not None:
        try:
            await supply(n - len(plan), level)
        except RoundsError as error:  # keep what exists; report only if there is nothing
            supply_error = error
        plan += await repo.unseen_question_ids(
            session, scope_id=scope_id, user_id=user.id, topic=topic, exact_topic=exact_topic,
            near_difficulty=level, limit=n - len(plan), exclude=plan,
            unrated_quality=UNRATED_QUALITY,
        )  # fmt: skip
    if len(plan) < n:
        plan += await repo.seen_question_ids(
            session, scope_id=scope_id, user_id=user.id, topic=topic, exact_topic=exact_topic,
            limit=n - len(plan), exclude=plan,
        )  # fmt: skip
    if not plan:
        if supply_error is not None:
            raise supply_error
        if not await repo.has_ready_material(session, scope_id):
            raise NothingToStudy()
        raise NoQuestionsOnTopic() if topic else NothingToStudy()
    return await repo.add_session(
        session,
        QuizSession(
            user_id=user.id, chat_id=chat_id, scope_id=scope_id, kind=SessionKind.QUIZ,
            topic=topic, plan=plan, started_at=now,
        ),
    )  # fmt: skip


async def start_review(
    session: AsyncSession,
    *,
    user: User,
    scope_id: int,
    chat_id: int | None,
    now: datetime,
    limit: int = REVIEW_BATCH,
) -> QuizSession | None:
    """A session over the student's due cards, most overdue first; None when nothing is due."""
    plan = await repo.due_question_ids(session, user.id, now, limit)
    if not plan:
        return None
    return await repo.add_session(
        session,
        QuizSession(
            user_id=user.id, chat_id=chat_id, scope_id=scope_id, kind=SessionKind.REVIEW,
            plan=plan, started_at=now,
        ),
    )  # fmt: skip


async def due_count(session: AsyncSession, user: User, *, now: datetime) -> int:
    return await count_due(session, user.id, now)


async def next_due_at(session: AsyncSession, user: User) -> datetime | None:
    return await repo.next_due_at(session, user.id)


# --- asking --------------------------------------------------------------------------------


async def current_step(
    session: AsyncSession,
    quiz: QuizSession,
    *,
    now: datetime,
    rng: random.Random | None = None,
) -> Step | None:
    """What the student should see now; None once the plan is done (the session finishes).

    An item already asked but unanswered is asked again with a fresh token, so buttons on
    the older message stop working and its timer restarts.
    """
    total = len(quiz.plan)
    while quiz.position < total:
        item = await repo.item_at(session, quiz.id, quiz.position)
        if item is None and quiz.kind is SessionKind.QUIZ:
            await _follow_level(session, quiz)
        question = await _question(session, item.question_id if item else quiz.plan[quiz.position])
        unasked = item is None or item.state is ItemState.ASKED
        # Deleted with its material, or retired, since the quiz was planned: its spot is
        # skipped (an answer already given to a retired one is still graded below).
        if question is None or (question.retired_at is not None and unasked):
            if item is not None:
                item.state = ItemState.SKIPPED
            quiz.position += 1
            continue
        if item is None:
            item = await repo.add_item(
                session,
                QuizItem(
                    session_id=quiz.id, question_id=question.id, position=quiz.position,
                    token=new_token(), option_order=_shuffled(question.options, rng),
                    sent_at=now,
                ),
            )  # fmt: skip
            return _asked(quiz, item, question, resumed=False)
        if item.state is ItemState.ASKED:
            item.token = new_token()
            item.sent_at = now
            item.message_ref = ""
            return _asked(quiz, item, question, resumed=True)
        if item.state is ItemState.ANSWERED:
            return _awaiting(quiz, item, question)
        quiz.position += 1
    if quiz.state is SessionState.ACTIVE:
        quiz.state = SessionState.FINISHED
        quiz.finished_at = now
    return None


async def _follow_level(session: AsyncSession, quiz: QuizSession) -> None:
    """Brings forward the remaining planned question closest to the student's level now.

    The level comes from the sliding window of their newest answers in the topic (core.
    adaptive), this quiz's answers included: a run of right answers steps the next question
    up, misses step it down. Ties keep the planned order (unseen before seen).
    """
    remaining = [int(qid) for qid in quiz.plan[quiz.position :]]
    user = await session.get(User, quiz.user_id)
    if len(remaining) < 2 or user is None:
        return
    level = await difficulty_for(session, user, quiz.topic)
    questions = await repo.questions_by_id(session, remaining)

    def distance(index: int) -> tuple[int, int]:
        question = questions.get(remaining[index])
        level_of = circulation.effective_difficulty(question) if question else level
        return abs(level_of - level), index

    best = min(range(len(remaining)), key=distance)
    if best:
        remaining[0], remaining[best] = remaining[best], remaining[0]
        quiz.plan = [*quiz.plan[: quiz.position], *remaining]


async def mark_delivered(
    session: AsyncSession, token: str, *, message_ref: str, sent_at: datetime
) -> bool:
    """Records the delivery time of a question (the answer timer starts here)."""
    return await repo.mark_sent(session, token, message_ref=message_ref, sent_at=sent_at)


# --- answering -----------------------------------------------------------------------------


async def answer(
    session: AsyncSession, *, user: User, token: str, shown_index: int, now: datetime
) -> AwaitingConfidence:
    """Records the choice behind an answer button. Idempotent: a second click raises."""
    item, quiz, question = await _owned_item(session, user, token)
    if item.state in (ItemState.ANSWERED, ItemState.REVEALED):
        raise AlreadyAnswered()
    if item.state is ItemState.SKIPPED:
        raise StaleButton("You skipped that question. Send /quiz to carry on.")
    if quiz.state is not SessionState.ACTIVE:
        raise QuizEnded()
    if not 0 <= shown_index < len(item.option_order):
        raise InvalidChoice(reason="answer index out of range")
    if question is None:
        raise StaleButton("That question was deleted with its material. Send /quiz to carry on.")
    if question.retired_at is not None:
        raise StaleButton("That question was retired after students reported it. Send /quiz "
                          "to carry on.")  # fmt: skip
    time_ms = max(0, round((now - item.sent_at).total_seconds() * 1000))
    choice = int(item.option_order[shown_index])
    if not await repo.claim_answer(session, item, choice=choice, time_ms=time_ms, answered_at=now):
        raise AlreadyAnswered()
    return _awaiting(quiz, item, question)


async def confide(
    session: AsyncSession, *, user: User, token: str, confidence: int, now: datetime
) -> tuple[Reveal, QuizSession]:
    """Records how sure the student was: appends the attempt, updates card, XP and streak."""
    item, quiz, _ = await _owned_item(session, user, token)
    if item.state is ItemState.ASKED:
        raise AnswerFirst() if quiz.state is SessionState.ACTIVE else QuizEnded()
    if item.state is ItemState.REVEALED:
        raise AlreadyAnswered()
    if item.state is ItemState.SKIPPED:
        raise StaleButton("You skipped that question. Send /quiz to carry on.")
    if not 1 <= confidence <= 5:
        raise InvalidChoice(reason="confidence out of range")
    if not await repo.claim_item_state(
        session, item, from_states=[ItemState.ANSWERED], to=ItemState.REVEALED
    ):
        raise AlreadyAnswered()
    reveal = await _finalize(session, user, quiz, item, confidence=confidence, now=now)
    if reveal is None:
        raise StaleButton("That question was deleted with its material. Send /quiz to carry on.")
    return reveal, quiz


async def skip(
    session: AsyncSession, *, user: User, now: datetime
) -> tuple[Reveal | None, QuizSession]:
    """Skips the current question. If it was answered already, the answer still counts."""
    quiz = await repo.active_session_for(session, user.id)
    if quiz is None:
        raise NoActiveSession()
    current = quiz.position
    reveal = await _close_current(session, user, quiz, now=now)
    quiz.position = max(quiz.position, current + 1)
    return reveal, quiz


async def stop(
    session: AsyncSession, *, user: User, now: datetime
) -> tuple[Reveal | None, Summary]:
    """Ends the session in progress; an answer awaiting confidence is kept."""
    quiz = await repo.active_session_for(session, user.id)
    if quiz is None:
        raise NoActiveSession()
    reveal = await _close_current(session, user, quiz, now=now)
    quiz.state = SessionState.STOPPED
    quiz.finished_at = now
    return reveal, await summary_of(session, quiz, user, now=now)


async def _close_current(
    session: AsyncSession, user: User, quiz: QuizSession, *, now: datetime
) -> Reveal | None:
    item = await repo.item_at(session, quiz.id, quiz.position)
    if item is None:
        return None
    if item.state is ItemState.ASKED:
        await repo.claim_item_state(
            session, item, from_states=[ItemState.ASKED], to=ItemState.SKIPPED
        )
        return None
    if item.state is ItemState.ANSWERED and await repo.claim_item_state(
        session, item, from_states=[ItemState.ANSWERED], to=ItemState.REVEALED
    ):
        return await _finalize(session, user, quiz, item, confidence=None, now=now)
    return None


async def _owned_item(
    session: AsyncSession, user: User, token: str
) -> tuple[QuizItem, QuizSession, Question | None]:
    found = await repo.item_with_session(session, token)
    if found is None:
        raise StaleButton()
    if found[1].user_id != user.id:
        raise NotYourQuestion()
    return found


async def _finalize(
    session: AsyncSession,
    user: User,
    quiz: QuizSession,
    item: QuizItem,
    *,
    confidence: int | None,
    now: datetime,
) -> Reveal | None:
    """Grades an answered item (core.grading) and moves the session on."""
    question = await _question(session, item.question_id)
    if question is None or item.choice is None:
        return None
    source = AttemptSource.REVIEW if quiz.kind is SessionKind.REVIEW else AttemptSource.QUIZ
    graded = await record_answer(
        session,
        user,
        Answer(
            question=question, choice=item.choice, confidence=confidence,
            time_ms=int(item.time_ms or 0), source=source,
            answered_at=item.answered_at or now, session_id=quiz.id,
        ),
    )  # fmt: skip
    quiz.position = max(quiz.position, item.position + 1)  # one UPDATE with the counters
    quiz.answered += 1
    quiz.correct += int(graded.attempt.correct)
    quiz.xp_gained += graded.xp
    options = [str(option) for option in question.options]
    shown = [int(i) for i in item.option_order]
    return Reveal(
        stem=question.stem,
        correct=graded.attempt.correct,
        chosen_letter=LETTERS[shown.index(item.choice)],
        chosen_text=options[item.choice],
        key_letter=LETTERS[shown.index(question.correct_index)],
        key_text=options[question.correct_index],
        explanation=question.explanation,
        source=await source_line(session, question),
        confidence=confidence,
        quality=graded.quality,
        time_ms=graded.attempt.time_ms,
        xp=graded.xp,
        total_xp=user.xp,
        level=user.level,
        leveled_up=graded.leveled_up,
        streak=user.streak,
        streak_event=graded.streak_event,
        due_at=graded.card.due_at,
        interval_days=graded.card.interval_days,
        tz=str(user_zone(user)),
        token=item.token,
    )


# --- reading -------------------------------------------------------------------------------


async def summary_of(
    session: AsyncSession, quiz: QuizSession, user: User, *, now: datetime
) -> Summary:
    """Score, time, XP, streak and the weakest topic, for the end of a session."""
    weakest = await weak_topics(session, user, limit=1)
    if not weakest:
        in_session = await repo.topic_tallies(
            session, user.id, since=quiz.started_at, session_id=quiz.id
        )
        missed = [_accuracy(t) for t in in_session if t.correct < t.attempts]
        weakest = sorted(missed, key=lambda t: (t.accuracy, -t.attempts))[:1]
    return Summary(
        kind=quiz.kind,
        state=quiz.state,
        total=len(quiz.plan),
        answered=quiz.answered,
        correct=quiz.correct,
        skipped=await repo.count_items(session, quiz.id, ItemState.SKIPPED),
        duration=(quiz.finished_at or now) - quiz.started_at,
        xp=quiz.xp_gained,
        total_xp=user.xp,
        level=user.level,
        streak=user.streak,
        best_streak=user.best_streak,
        weakest=weakest[0] if weakest else None,
        due_now=await count_due(session, user.id, now),
    )


async def weak_topics(session: AsyncSession, user: User, *, limit: int = 3) -> list[TopicAccuracy]:
    """The weakest topics exactly as /weak and /next judge them (core.stats), worst first,
    each with a question the student answered on it, for a "practise this" button."""
    weak = await stats.weak_topics(session, user.id, limit=limit)
    if not weak:
        return []
    answered = await repo.topic_tallies(session, user.id, since=_BEGINNING_OF_TIME)
    question_ids = {tally.topic: tally.question_id for tally in answered}
    return [
        TopicAccuracy(topic.topic, topic.attempts, topic.correct, question_ids.get(topic.topic))
        for topic in weak
    ]


async def source_line(session: AsyncSession, question: Question) -> str:
    """Where a question came from, e.g. "19.5 Heart Development, p. 3 of heart.pdf" or
    "Cardiac Cycle, slide 14 of lecture.pptx"."""
    ref = await repo.source_of(session, question)
    cited = cited_pages(question.source_pages, page_unit(ref.filename))
    parts = [part for part in (ref.heading, cited) if part]
    where = ", ".join(parts)
    name = ref.filename or ref.material_title
    if name:
        where = f"{where} of {name}" if where else name
    return where


def _accuracy(tally: repo.TopicTally) -> TopicAccuracy:
    return TopicAccuracy(tally.topic, tally.attempts, tally.correct, tally.question_id)


async def _question(session: AsyncSession, question_id: int | None) -> Question | None:
    return None if question_id is None else await session.get(Question, question_id)


def _asked(quiz: QuizSession, item: QuizItem, question: Question, *, resumed: bool) -> Asked:
    options = tuple(str(question.options[int(i)]) for i in item.option_order)
    return Asked(
        token=item.token, position=item.position, total=len(quiz.plan), kind=quiz.kind,
        stem=question.stem, options=options, topic=question.topic,
        difficulty=question.difficulty, resumed=resumed,
    )  # fmt: skip


def _awaiting(quiz: QuizSession, item: QuizItem, question: Question) -> AwaitingConfidence:
    assert item.choice is not None
    shown = [int(i) for i in item.option_order]
    return AwaitingConfidence(
        token=item.token, position=item.position, total=len(quiz.plan), kind=quiz.kind,
        stem=question.stem, chosen_letter=LETTERS[shown.index(item.choice)],
        chosen_text=str(question.options[item.choice]),
    )  # fmt: skip


def _shuffled(options: Sequence[object], rng: random.Random | None) -> list[int]:
    rng = rng or random.SystemRandom()
    pinned = [i for i, option in enumerate(options) if _PINNED_LAST.match(str(option))]
    free = [i for i in range(len(options)) if i not in pinned]
    rng.shuffle(free)
    return free + pinned
