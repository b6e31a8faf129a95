"""``datasets.Features`` derived from the schema: the only place dataset columns are defined.

Default config, one row per article:
- article metadata: ``id``, ``text``, ``title``, ``url``, ``source``, ``published_at``
  (ISO 8601 string, offset kept), ``language``;
- one list column per span group (``entities``, ``claims``): ``start``, ``end`` (code points,
  end exclusive), ``text``, ``label`` (ClassLabel), one ClassLabel per attribute (null when the
  annotator chose none) and one ``list<int32>`` per relation: indices into the target group's
  list in the same row (``claims[i].claimed_by == [j]`` → ``entities[j]``);
- one column per document choice: ``list<{target, label}>`` when the choice is tied to a task
  field (the stance toward ``target``), else a ClassLabel;
- provenance: ``annotators`` (pseudonyms), ``annotation_ids``, ``task_id``, ``resolution``.
"""

from __future__ import annotations

from datasets import ClassLabel, Features, Value

from toolkit.schema import Schema

ARTICLE_COLUMNS = (
    "id",
    "text",
    "title",
    "url",
    "source",
    "published_at",
    "language",
    "dup_group",
)


def span_feature(schema: Schema, group_name: str) -> dict:
    """The struct of one span of a group (used inside a list)."""
    group = schema.group(group_name)
    struct: dict = {
        "start": Value("int32"),
        "end": Value("int32"),
        "text": Value("string"),
        "label": ClassLabel(names=group.values),
    }
    for attr in group.attributes:
        struct[attr.name] = ClassLabel(names=attr.values)
    for rel in group.relations:
        struct[rel.name] = [Value("int32")]
    return struct


def label_columns(schema: Schema) -> dict:
    """One list column per span group and one column per document choice."""
    cols: dict = {g.name: [span_feature(schema, g.name)] for g in schema.spans}
    for doc in schema.document:
        if doc.when_field:
            cols[doc.name] = [{"target": Value("string"), "label": ClassLabel(names=doc.values)}]
        else:
            cols[doc.name] = ClassLabel(names=doc.values)
    return cols


def default_features(schema: Schema) -> Features:
    """Features of the resolved, one-row-per-article config."""
    cols: dict = {name: Value("string") for name in ARTICLE_COLUMNS}
    cols.update(label_columns(schema))
    cols["task_id"] = Value("int64")
    cols["annotators"] = [Value("string")]
    cols["annotation_ids"] = [Value("int64")]
    cols["resolution"] = {
        "policy": Value("string"),
        "n_annotations": Value("int32"),
        "n_skipped": Value("int32"),
        "needs_review": [Value("string")],
    }
    return Features(cols)


def annotation_features(schema: Schema) -> Features:
    """Features of the ``annotations`` config: one row per individual annotation."""
    cols: dict = {
        "annotation_id": Value("int64"),
        "task_id": Value("int64"),
        "article_id": Value("string"),
        "annotator": Value("string"),
        "ground_truth": Value("bool"),
        "skipped": Value("bool"),
        "lead_time": Value("float64"),
        "created_at": Value("string"),
        "updated_at": Value("string"),
        "prediction_model_version": Value("string"),
    }
    cols.update(label_columns(schema))
    return Features(cols)


def reserved_columns() -> frozenset[str]:
    """The columns of the default and annotations configs that are not derived from a schema:
    no span group or document choice may take these names."""
    from toolkit.schema import Schema

    bare = Schema.model_construct(name="bare", spans=(), document=())
    return frozenset(default_features(bare)) | frozenset(annotation_features(bare))
