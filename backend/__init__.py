"""FastAPI backend: jobs database, streamed uploads, RabbitMQ outbox and events consumer."""
