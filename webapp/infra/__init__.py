"""Infrastructure apart from the domain: bulk database writes, the task queue and its task
names, file storage (photos, export files), Vietnamese text folding, health checks."""
