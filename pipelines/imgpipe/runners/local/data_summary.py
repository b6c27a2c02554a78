"""What happened to the data in a run: files read, quarantined at
ingestion, excluded by the data gate (counts by reason), the gate's
warnings, and where each list is. Read from the artifacts ML Metadata
records for ImageExampleGen and DataGate."""
from __future__ import annotations

import dataclasses
import json
import os
import re
from collections import Counter
from typing import Dict, List, Optional


@dataclasses.dataclass(frozen=True)
class DataSummary:
    ingested: int
    quarantined: Dict[str, int]      # reason in a few words -> count
    excluded: Dict[str, int]         # reason in a few words -> count
    warnings: List[str]              # one line per failed warning check
    quarantine_list: str
    excluded_list: str
    gate_report: str
    data_docs: str
    # Runs that pretrain: what UnlabelledExampleGen quarantined, and where.
    unlabelled_quarantined: Optional[Dict[str, int]] = None
    unlabelled_quarantine_list: str = ""

    @property
    def read(self) -> int:
        return self.ingested + sum(self.quarantined.values())

    @property
    def used(self) -> int:
        return self.ingested - sum(self.excluded.values())


def quarantine_kind(reason: str) -> str:
    """A quarantine reason without its details, so that reasons group: no
    leading quoted path ("'a.png': escapes ..."), no parentheses ('not an
    image file extension (expected ...)'), nothing after a colon ('not a
    decodable image: ...'), numbers as N ('label N does not match ...')."""
    reason = re.sub(r"^'[^']*': ", "", reason)
    reason = re.sub(r" \([^()]*\)", "", reason).split(": ", 1)[0]
    return re.sub(r"\d+", "N", reason)


def warning_line(finding: dict) -> str:
    ids = ", ".join(finding["example_ids"]) or "-"
    evidence = (f"{finding['unexpected_count']} image(s); e.g. {ids}"
                if finding["unexpected_count"] else
                f"observed {finding.get('observed') or '-'}")
    return f"{finding['expectation']} on '{finding['column']}': {evidence}"


def _by_kind(quarantine: List[dict]) -> Dict[str, int]:
    return dict(Counter(quarantine_kind(q["reason"])
                        for q in quarantine).most_common())


def build_data_summary(examples_uri: Optional[str],
                       report_uri: Optional[str],
                       unlabelled_uri: Optional[str] = None
                       ) -> Optional[DataSummary]:
    """None unless both artifacts and the gate's report.json exist;
    `unlabelled_uri`, UnlabelledExampleGen's examples when the run
    pretrains."""
    from imgpipe_components.data_gate.report_location import REPORT_FILE
    from imgpipe_components.data_gate.exclusions import (EXCLUDED_FILE,
                                                         by_reason)
    from imgpipe_components.image_example_gen.executor import (
        QUARANTINE_FILE, read_quarantine)
    from imgpipe_components.storage import artifact_files

    if not examples_uri or not report_uri:
        return None
    text = artifact_files.read_bytes(os.path.join(report_uri, REPORT_FILE))
    if text is None:
        return None
    report = json.loads(text)
    return DataSummary(
        ingested=int(report["images"]),
        quarantined=_by_kind(read_quarantine(examples_uri)),
        excluded=by_reason(report.get("excluded", [])),
        warnings=[warning_line(f) for f in report["warnings"]],
        quarantine_list=os.path.join(examples_uri, QUARANTINE_FILE),
        excluded_list=os.path.join(report_uri, EXCLUDED_FILE),
        gate_report=os.path.join(report_uri, REPORT_FILE),
        data_docs=report["data_docs"],
        unlabelled_quarantined=(_by_kind(read_quarantine(unlabelled_uri))
                                if unlabelled_uri else None),
        unlabelled_quarantine_list=(
            os.path.join(unlabelled_uri, QUARANTINE_FILE)
            if unlabelled_uri else ""))
