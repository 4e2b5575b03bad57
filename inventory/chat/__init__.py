"""Chat notifications: Slack and Microsoft Teams channels, their messages and their delivery through the outbox."""
