"""Review of disagreements: the items a version lists in ``resolution.needs_review`` are sent
to a review project in Label Studio, and the reviewers' decisions come back with the next pull.

Label Studio's Community edition has no reviewing stage, so a review is a project of its own,
made from the same schema (title ``P (review)`` by default):

- :mod:`~toolkit.review.results`: a dataset annotation row → Label Studio result items, so an
  annotator's version can be shown as a prediction;
- :mod:`~toolkit.review.tasks`: the review tasks of a version (one per item needing review,
  every annotator's version a prediction whose model version is the annotator's pseudonym)
  and ``toolkit review push`` (idempotent, through :func:`toolkit.push.importer.push_tasks`);
- :mod:`toolkit.pull.decisions` (a room of pull): the submitted review annotations read back
  by ``toolkit pull`` and applied to the rows of their source tasks
  (``resolution.policy = "review"``);
- :mod:`~toolkit.review.markers`: the task data keys and the description that tie a review
  task to its source task and project;
- :mod:`~toolkit.review.guidelines`: what the reviewer is asked to do, from the schema.
"""
