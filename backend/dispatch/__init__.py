"""Getting tasks to the adapters: the broker, the outbox, the fair order and queue places."""
