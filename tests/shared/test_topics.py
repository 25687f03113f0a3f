"""Topic names: every one `shared.topics` names is a topic the manifest declares, and back."""

from __future__ import annotations

from pathlib import Path

import yaml

from shared import topics

MANIFEST = Path(__file__).resolve().parents[2] / "serverless.yml"


def test_the_named_topics_are_the_manifest_s() -> None:
    declared = set(
        yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["custom"]["stratus"]["topics"]
    )
    named = {getattr(topics, name) for name in topics.__all__ if name.isupper()}
    assert named == declared
    assert topics.schedule_topic("deadman") == "schedule-deadman"
