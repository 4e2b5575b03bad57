"""Chat notifications: Slack, Microsoft Teams and a signed generic webhook, sent through the outbox."""
