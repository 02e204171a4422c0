"""A partial read resolved by its runner's face, through the whole pipeline on the local stack:
"1026" read under a face that wears 10264 in another photo of the event is 10264; the same read
under someone else's face stays 1026."""

import io

from local_stack import next_seed
from PIL import Image

from snaprace import operations
from snaprace.local.engines import embed_script, read_script
from snaprace.samples import Runner, race_photo

ORG = "acme"


def half_hidden(runner: Runner, shown: str) -> bytes:
    """A photo of `runner` in which only `shown` of their bib can be read."""
    data, _ = race_photo(next_seed(), [runner])
    script = read_script(data)
    script["text"] = [{**text, "text": shown} for text in script["text"]]
    with Image.open(io.BytesIO(data)) as image:
        return embed_script(image.convert("RGB"), script)


def names(found: list[dict]) -> list[str]:
    return sorted(photo["rawKey"].rsplit("/", 1)[-1] for photo in found)


def test_a_partial_read_is_the_bib_its_runner_wears_elsewhere(local_stack, event_id):
    full, _ = race_photo(next_seed(), [Runner("10264")])
    local_stack.put(ORG, event_id, "full.jpg", full)
    local_stack.wait(ORG, event_id)
    local_stack.put(ORG, event_id, "partial.jpg", half_hidden(Runner("10264"), "1026"))
    local_stack.put(ORG, event_id, "other.jpg", half_hidden(Runner("1026"), "1026"))  # a runner 1026
    audit = local_stack.wait(ORG, event_id)
    assert audit.as_dict()["indexed"] == 3

    assert names(operations.photos(local_stack.stack, ORG, event_id, bib="10264")) == [
        "full.jpg",
        "partial.jpg",
    ]
    assert names(operations.photos(local_stack.stack, ORG, event_id, bib="1026")) == ["other.jpg"]
