"""Replies in the chat: the customer-service window, the outbox the intake service sends from,
Meta's message templates and what Meta's error codes mean."""
