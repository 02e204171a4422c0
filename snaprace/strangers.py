"""What a stranger holding the public page can learn and spend: the attacks docs/security.md
measures, as plain functions over `ask`, one public request.

- `prefix_walk`: the directory walk the first probe used (two-letter prefixes, extended while an
  answer is full), which recovered every runner of a published event before the name search took
  whole names only.
- `dictionary_walk`: the best walk left: full names in order of how common they are, from the same
  census-weighted name lists the event's runners are drawn from (the attacker knows the population).
- `runners_with_names`: an event's runners with realistic names (Faker's en_US lists, which carry
  the US census frequencies), the same for a seed.

Every request comes from a new address (the attacker has many), so per-client limits do not bind:
what is measured is what the matching rule itself gives away. Used by `bench/strangers.py` and by
tests/integration/test_strangers.py.
"""

import contextlib
import heapq
import itertools
import random
import string
from collections.abc import Callable, Iterator

from pipeline.common import keys
from pipeline.store.photos import gallery_key
from snaprace.samples import Runner, race_photo

Ask = Callable[[str], list[dict]]  # a name typed -> the runners answered, [{bib, name}]


def runners_with_names(count: int, seed: int = 7) -> dict[str, str]:
    """bib -> "First Last", first and last names drawn by their census frequencies."""
    first, last = name_weights()
    rng = random.Random(seed)
    firsts = rng.choices(list(first), weights=list(first.values()), k=count)
    lasts = rng.choices(list(last), weights=list(last.values()), k=count)
    return {str(1001 + n): f"{f} {surname}" for n, (f, surname) in enumerate(zip(firsts, lasts, strict=True))}


def name_weights() -> tuple[dict[str, float], dict[str, float]]:
    from faker.providers.person.en_US import Provider

    first = {**Provider.first_names_male, **Provider.first_names_female}
    return dict(first), dict(Provider.last_names)


def prefix_walk(ask: Ask, budget: int, full_page: int = 10) -> set[str]:
    """Bibs recovered by walking name prefixes: every two-letter prefix, then a letter more on
    each prefix whose answer was a full page, breadth first, until `budget` requests."""
    recovered: set[str] = set()
    queue = ["".join(pair) for pair in itertools.product(string.ascii_lowercase, repeat=2)]
    asked = 0
    while queue and asked < budget:
        prefix = queue.pop(0)
        answer = ask(prefix)
        asked += 1
        recovered |= {runner["bib"] for runner in answer}
        if len(answer) >= full_page:
            queue += [prefix + letter for letter in string.ascii_lowercase]
    return recovered


def likeliest_names() -> Iterator[str]:
    """Full names, most common first (first-name weight x last-name weight)."""
    first, last = name_weights()
    firsts = sorted(first.items(), key=lambda pair: -pair[1])
    lasts = sorted(last.items(), key=lambda pair: -pair[1])
    # a best-first walk over the product of two sorted lists
    frontier = [(-firsts[0][1] * lasts[0][1], 0, 0)]
    seen = {(0, 0)}
    while frontier:
        _, i, j = heapq.heappop(frontier)
        yield f"{firsts[i][0]} {lasts[j][0]}"
        for a, b in ((i + 1, j), (i, j + 1)):
            if a < len(firsts) and b < len(lasts) and (a, b) not in seen:
                seen.add((a, b))
                heapq.heappush(frontier, (-firsts[a][1] * lasts[b][1], a, b))


def dictionary_walk(ask: Ask, budget: int) -> set[str]:
    """Bibs recovered by asking for the `budget` most common full names."""
    recovered: set[str] = set()
    for name in itertools.islice(likeliest_names(), budget):
        recovered |= {runner["bib"] for runner in ask(name)}
    return recovered


def index_runner_photo(
    table, rekognition, collection: str, org_id: str, event_id: str, photo_id: str, bib: str, seed: int,
    linked: bool = True, bib_read: bool = True,
) -> str:  # fmt: skip
    """A generated photo of runner `bib` indexed in `collection` (the scripted engine sees its face)
    and stored as the pipeline stores it: the bib read with that face linked (or not), or, with
    `bib_read` False, the face alone. Its face id. The event a stranger searches in the tests and
    bench/strangers.py."""
    with contextlib.suppress(rekognition.exceptions.ResourceAlreadyExistsException):
        rekognition.create_collection(CollectionId=collection)
    photo, _ = race_photo(seed, [Runner(bib, show_bib=bib_read)])
    faces = rekognition.index_faces(CollectionId=collection, Image={"Bytes": photo}, ExternalImageId=photo_id)
    face_id = faces["FaceRecords"][0]["Face"]["FaceId"]
    item = {
        "orgId": org_id,
        "eventId": event_id,
        "photoId": photo_id,
        "status": "INDEXED",
        "bibs": [bib] if bib_read else [],
        "faceIds": [face_id],
        "processedKey": keys.processed_key(org_id, event_id, photo_id),
        "thumbnailKey": keys.thumbnail_key(org_id, event_id, photo_id),
        "galleryKey": gallery_key(f"2026-11-01T09:{0 if bib_read else 30:02d}:00+00:00", photo_id),
    }
    reads = [{"bib": bib, "confidence": 99.0, "box": {}, **({"faceId": face_id} if linked else {})}]
    table.photos.replace(item, reads if bib_read else [], None)
    return face_id
