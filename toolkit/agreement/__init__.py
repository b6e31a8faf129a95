"""Inter-annotator agreement: the measures (:mod:`.measures`) and a version's report
(:mod:`.report`)."""

from toolkit.agreement.measures import choice_agreement, span_f1
from toolkit.agreement.report import (
    AgreementAccumulator,
    agreement_report,
    plain_reading,
    render_table,
    rows_from_dataset,
    version_agreement,
)

__all__ = [
    "AgreementAccumulator",
    "agreement_report",
    "choice_agreement",
    "plain_reading",
    "render_table",
    "rows_from_dataset",
    "span_f1",
    "version_agreement",
]
