"""The scripted engine sees what a photo declares, also on the pipeline's processed copy."""

import io

from PIL import Image

from pipeline.processing.images import normalise
from snaprace.local.engines import ScriptedEngine, read_script
from snaprace.samples import Runner, demo_set, race_photo


def processed(data: bytes) -> bytes:
    """What the Preprocess step makes of an upload (script dropped, resized, re-encoded)."""
    return normalise(
        data,
        target_long_side=1024,
        thumbnail_long_side=200,
        max_pixels=100_000_000,
        max_bytes=15 << 20,
        quality=85,
    ).jpeg


def test_script_travels_in_the_upload_only():
    data, script = race_photo(1, [Runner("123")])
    assert read_script(data) == script
    assert read_script(processed(data)) is None


def test_processed_copy_is_recognised_by_its_signature():
    photos = [race_photo(seed, [Runner(str(100 + seed))]) for seed in range(12)]
    engine = ScriptedEngine(lambda: [(f"photo{i}", lambda d=data: d) for i, (data, _) in enumerate(photos)])
    for data, script in photos:
        sight = engine.see(processed(data))
        assert [line.text for line in sight.text] == [script["text"][0]["text"]]
        assert [face.identity for face in sight.faces] == [script["faces"][0]["person"]]


def test_rotated_upload_is_recognised_upright():
    data, script = race_photo(7, [Runner("808")], width=900, height=1200, orientation=6)
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.size == (1200, 900)  # stored sideways, EXIF says turn it
    engine = ScriptedEngine(lambda: [("rotated", lambda: data)])
    upright = processed(data)
    with Image.open(io.BytesIO(upright)) as image:
        assert image.width < image.height
    assert [line.text for line in engine.see(upright).text] == ["808"]


def test_unknown_image_shows_nothing():
    engine = ScriptedEngine()
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (10, 200, 30)).save(buffer, "JPEG")
    sight = engine.see(buffer.getvalue())
    assert sight.text == [] and sight.faces == []


def test_similarity_is_high_for_the_same_person_only():
    data, _ = race_photo(3, [Runner("1"), Runner("2")])
    first, second = ScriptedEngine().see(data).faces
    assert ScriptedEngine.similarity(first, first) >= 99
    assert ScriptedEngine.similarity(first, second) < 50


def test_demo_set_declares_what_it_draws():
    photos = {p.name: p for p in demo_set()}
    hidden = photos["IMG_1100.jpg"]
    assert len(hidden.people) == 2 and len(hidden.bibs) == 1  # one bib hidden, both faces seen
    assert {p.name for p in photos.values() if p.expect == "REJECTED"} == {
        "IMG_1103_card_error.jpg",
        "icon.jpg",
        "notes.txt",
    }
    for photo in photos.values():
        if photo.expect == "INDEXED":
            assert sorted(t["text"] for t in read_script(photo.data)["text"]) == sorted(photo.bibs)


def test_calls_side_by_side_both_see_a_photo_the_engine_is_still_learning():
    """DetectText and IndexFaces of one photo run at once; while one call registers the upload
    (loading it from the bucket takes time), the other must wait for it, not see nothing."""
    import threading
    import time

    data, _ = race_photo(5, [Runner("742")])

    def slow_load():
        time.sleep(0.3)
        return data

    engine = ScriptedEngine(lambda: [("bucket/raw/742.jpg", slow_load)])
    copy = processed(data)
    sights = []
    threads = [threading.Thread(target=lambda: sights.append(engine.see(copy))) for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)  # the second call arrives while the first is loading
    for thread in threads:
        thread.join()
    assert [len(sight.faces) for sight in sights] == [1, 1]
    assert [[line.text for line in sight.text] for sight in sights] == [["742"], ["742"]]


def test_a_truncated_upload_in_the_bucket_does_not_break_what_the_engine_sees():
    """A truncated JPEG keeps its script (the comment comes first) but has no signature to match."""
    data, _ = race_photo(9, [Runner("901")])
    truncated = data[: len(data) // 2]
    engine = ScriptedEngine(
        lambda: [("bucket/raw/cut.jpg", lambda: truncated), ("bucket/raw/ok.jpg", lambda: data)]
    )
    for _ in range(2):  # and again: the bad object is not read a second time
        sight = engine.see(processed(data))
        assert [line.text for line in sight.text] == ["901"]


def test_the_local_endpoints_request_log_keeps_no_address_query_or_bib(caplog):
    """As the deployed API's access log: names, cursors, bibs and client addresses identify runners."""
    import io
    import logging

    from snaprace.local.logs import PrivateRequestLog

    handler = PrivateRequestLog.__new__(PrivateRequestLog)
    handler.client_address = ("127.0.0.7", 50000)
    handler.command = "GET"
    handler.path = "/public/orgs/acme/events/seoul/bibs/1234/photos?name=kim%20minji&cursor=abc"
    handler.request_version, handler.requestline, handler.wfile = "HTTP/1.1", "", io.BytesIO()
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        handler.log_request(200)
    (line,) = [record.getMessage() for record in caplog.records]
    assert '"GET /public/orgs/acme/events/seoul/bibs/{bib}/photos" 200' in line
    assert "127.0.0.7" not in line and "kim" not in line and "1234" not in line and "?" not in line
    assert handler.address_string() == "127.0.0.7"  # REMOTE_ADDR: the API's sourceIp, per caller
