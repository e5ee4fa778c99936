"""The real `python -m bot console` process through a pipe over a real PDF: upload, quiz,
answer, confidence, a reveal that cites the page, a card due tomorrow that comes back in
/review once the clock has moved (ROUNDS_CLOCK_OFFSET, never a sleep), and a process killed
right after an answer that loses nothing when started again; the process that answers is
never the one holding the embedding model (torch is mapped only in its worker process)."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.console_process import REPO_ROOT, ConsoleProcess

EXCERPT = "ap2e_19-5_heart_development_excerpt.pdf"
SOURCE = re.compile(r"Source: [^:]*\bp\. \d+ of " + re.escape(EXCERPT))
TIMEOUT_S = 120


def console_env(data_dir: Path, clock_offset: str = "") -> dict[str, str]:
    env = {**os.environ, "ROUNDS_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    for name in ("ROUNDS_DATABASE_URL", "ROUNDS_LLM_MODEL", "ROUNDS_CLOCK_OFFSET"):
        env.pop(name, None)
    if clock_offset:
        env["ROUNDS_CLOCK_OFFSET"] = clock_offset
    return env


def flat(output: str) -> str:
    """The console's text without panel borders or line wrapping, for phrase assertions."""
    text = re.sub(r"[│╭╮╰╯─]+", " ", output)
    return re.sub(r"\s+", " ", text)


def run_script(script: str, data_dir: Path, clock_offset: str = "") -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"], input=script, capture_output=True, text=True,
        cwd=REPO_ROOT, env=console_env(data_dir, clock_offset), timeout=TIMEOUT_S,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return flat(result.stdout)


class LiveConsole(ConsoleProcess):
    """A console process we type into line by line and read as it prints."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(console_env(data_dir))

    def wait_for(self, text: str) -> str:
        """Reads output until `text` appears in what is printed from now on; returns that."""
        start = len(self.seen)
        deadline = time.monotonic() + TIMEOUT_S
        while text not in self.seen[start:]:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"never saw {text!r}; output:\n{self.seen[start:]}")
            try:
                self.seen += self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
        return flat(self.seen[start:])

    def maps_torch(self, pid: int | None = None) -> bool:
        """Whether libtorch is loaded in the process (default: the console itself)."""
        maps = Path(f"/proc/{pid or self.process.pid}/maps").read_text()
        return "libtorch" in maps

    def workers(self) -> list[int]:
        """The console's child processes (the CPU worker pool)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.mark.slow
def test_upload_quiz_reveal_then_review_the_next_day(tmp_path: Path, shared_data: Path) -> None:
    pdf = shared_data / EXCERPT
    first = run_script(f"/upload {pdf}\n/quiz 2\n1\n4\n/review\n/quit\n", tmp_path)
    assert "Question 1 of 2" in first
    assert "How sure were you?" in first
    assert ("Correct ✓" in first) or ("Not quite ✗" in first)
    assert SOURCE.search(first), first
    assert re.search(r"Next review: tomorrow \(\w{3} \d{1,2} \w{3}\)", first)
    assert "Question 2 of 2" in first
    assert "Nothing is due right now. Your next review is tomorrow" in first
    assert "Your quiz is still open: /quiz." in first

    # A day later (the clock seam, not a sleep): the card is due and /review brings it back.
    later = run_script("/review\n/quit\n", tmp_path, clock_offset="1d")
    assert "Welcome back" in later
    assert "1 card due for review" in later
    assert "Your quiz is still open" in later
    assert "Your earlier quiz is closed (1/1 right)" in later or "(0/1 right)" in later
    assert "Review 1 of 1" in later


@pytest.mark.slow
def test_killed_after_an_answer_the_quiz_continues_where_it_stopped(
    tmp_path: Path, shared_data: Path
) -> None:
    console = LiveConsole(tmp_path)
    console.send(f"/upload {shared_data / EXCERPT}")
    # A topic: its passages are found by a query embedding, done in the worker process.
    console.send("/quiz heart 2")
    console.wait_for("Question 1 of 2")
    console.send("1")
    console.wait_for("How sure were you?")
    assert not console.maps_torch(), "the embedding model was loaded in the console process"
    assert any(console.maps_torch(pid) for pid in console.workers())
    console.kill()  # no /quit, no clean shutdown: as if the machine lost power

    again = LiveConsole(tmp_path)
    resumed = again.wait_for("How sure were you?")
    assert "Welcome back" in resumed
    assert "Picking up where you left off (question 1 of 2)" in resumed
    again.send("4")
    reveal = again.wait_for("Question 2 of 2")
    assert SOURCE.search(reveal), reveal
    again.send("2")
    again.wait_for("How sure were you?")
    again.send("3")
    again.wait_for("Next review:")
    summary = again.wait_for("Streak:")
    assert "Quiz complete" in summary and re.search(r"Score: \d/2", summary)
    again.send("/quit")
    assert again.process.wait(timeout=30) == 0
