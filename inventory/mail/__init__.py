"""E-mail: an outbox written in the same transaction as the change that causes a message, a
sender that claims rows so no message goes out twice, and the reorder alert digest."""
