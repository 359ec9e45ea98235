"""Task runner port and adapters: in-process thread pool (embedded) and Celery (production).

The same ``TaskSpec`` handlers run behind both; payloads are pydantic models serialised as JSON.
"""

from serving.tasks.inline import InlineTaskRunner
from serving.tasks.port import TaskRegistry, TaskRunner, TaskSpec, UnknownTaskError, backoff_delay

__all__ = ["InlineTaskRunner", "TaskRegistry", "TaskRunner", "TaskSpec", "UnknownTaskError", "backoff_delay"]
