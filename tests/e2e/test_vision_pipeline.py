"""`snaprace local up --engine vision`: the pipeline reads real numbers with a real OCR model.
The photos are generated ones (no script is consulted: the vision engine only looks at pixels)."""

import pytest
from local_stack import next_seed, start_local_stack

from snaprace import operations
from snaprace.samples import Runner, race_photo

pytest.importorskip("snaprace.local.vision", reason="the vision extra is not installed (make venv)")


@pytest.fixture(scope="module")
def vision_stack(tmp_path_factory):
    running = start_local_stack(tmp_path_factory.mktemp("vision"), "--engine", "vision")
    yield running
    running.stop()


def test_bibs_are_read_from_the_pixels(vision_stack):
    photos = {"a.jpg": ["2718", "314"], "b.jpg": ["1618"], "c.jpg": ["2718"]}
    for name, bibs in photos.items():
        data, _ = race_photo(next_seed(), [Runner(b) for b in bibs])
        vision_stack.put("acme", "vision-run", name, data)
    audit = vision_stack.wait("acme", "vision-run", timeout=120)
    assert audit.as_dict()["indexed"] == len(photos)
    indexed = operations.photos(vision_stack.stack, "acme", "vision-run")
    assert {p["rawKey"].rsplit("/", 1)[-1]: sorted(p["bibs"]) for p in indexed} == {
        name: sorted(bibs) for name, bibs in photos.items()
    }
    assert all(p["faces"] == 0 for p in indexed)  # drawn heads are not faces to a real detector
    found = operations.photos(vision_stack.stack, "acme", "vision-run", bib="2718")
    assert sorted(p["rawKey"].rsplit("/", 1)[-1] for p in found) == ["a.jpg", "c.jpg"]
    assert vision_stack.health()["engine"] == "vision"
