"""``toolkit pull``: Label Studio annotations → a new dataset version.

The stage in five rooms, in the order a task goes through them:

- :mod:`~toolkit.pull.sources`: where the export comes from (a file, or a live project whose
  export is downloaded by :mod:`toolkit.labelstudio.export`), streamed task by task;
- :mod:`~toolkit.pull.validate`: every result item checked against the schema and every span
  against the text (offsets repaired when provably right, else quarantined);
- :mod:`~toolkit.pull.resolve`: several annotators → one answer per task, by a policy;
- :mod:`~toolkit.pull.rows`: the rows of one task for the ``default``, ``annotations`` and
  ``tokens`` configs (and :mod:`~toolkit.pull.parallel` for ``--workers``);
- :mod:`~toolkit.pull.build`: rows streamed into a :class:`~toolkit.dataset.writer.VersionWriter`
  with splits, agreement, changelog and card.
"""

from toolkit.pull.build import Pulled, PullOptions, pull_to_version
from toolkit.pull.sources import pull_from_file, pull_from_project

__all__ = ["PullOptions", "Pulled", "pull_from_file", "pull_from_project", "pull_to_version"]
