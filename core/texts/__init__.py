"""Every sentence Rounds says to a student, in one place: handlers, core services and the
scheduler import their wording from here, one module per part of the conversation."""
