"""Chat notifications: Slack, Microsoft Teams and a signed generic webhook: channels, their messages (cards.py) and their delivery through the outbox."""
