"""Infrastructure apart from the domain: bulk database writes, the task queue, health checks."""
