"""The RabbitMQ worker: consuming tasks, delivery rules, guarded runs, health and metrics."""
