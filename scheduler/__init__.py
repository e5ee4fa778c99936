"""APScheduler jobs: due-review pushes, reminders, group-round timers."""
