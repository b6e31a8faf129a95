"""``toolkit push``: idempotent import of tasks into a Label Studio project.

- :mod:`~toolkit.push.importer`: what to send, batches imported with the SDK's retries off,
  reconciled with the server after an unknown outcome, duplicates removed;
- :mod:`~toolkit.push.listing`: the project's tasks, listed in pages;
- :mod:`~toolkit.push.cache` and :mod:`~toolkit.push.tracker`: the per-project push cache, so
  that a push with nothing new lists nothing.
"""

from toolkit.push.cache import PushCache
from toolkit.push.importer import push_articles, push_tasks, remove_duplicates
from toolkit.push.report import PushReport

__all__ = ["PushCache", "PushReport", "push_articles", "push_tasks", "remove_duplicates"]
