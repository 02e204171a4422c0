"""The big-event benchmark's pure parts (bench/big_event.py): the projection of AWS seconds from a
table of request counts, the growth exponent, the verdict, the S3 operations it names, the event it
plans; and bench/moto_at_scale.py, which must answer the store's Queries and transactions as moto
does. The benchmark itself needs the local stack and stays outside `make test`."""

import importlib.util
import math
import re
import sys
from pathlib import Path

import boto3
import pytest
from conftest import BUCKET, REGION, TABLE

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))  # its sibling moto_at_scale, as when run as a script
    try:
        yield load("big_event")
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture
def moto_at_scale():
    module = load("moto_at_scale")
    yield module
    module.uninstall()  # moto's own again for every other test


# ---------------------------------------------------------------- projection and growth


def test_the_projection_adds_each_requests_latency_from_the_one_table(bench):
    requests = {"DynamoDB:Query": 10, "DynamoDB:UpdateItem": 2000, "Rekognition:SearchFaces": 2}
    # 10 pages x 30 ms + 2,000 updates x 8 ms + 2 searches x 150 ms
    assert bench.projected_seconds(requests) == pytest.approx(0.3 + 16.0 + 0.3)


def test_a_request_the_table_does_not_name_costs_the_default(bench):
    assert bench.projected_seconds({"Glacier:RestoreObject": 3}) == pytest.approx(3 * bench.DEFAULT_LATENCY_S)
    assert bench.projected_seconds({}) == 0


def test_a_face_scrub_of_10000_photos_in_one_request_is_projected_past_the_api_limit(bench):
    """The issue's example: ~20,000 sequential writes for a 10,000-photo event."""
    projected = bench.projected_seconds({"DynamoDB:UpdateItem": 20_000, "DynamoDB:Query": 60})
    assert projected == pytest.approx(161.8)
    assert not bench.within_limit(projected, bench.API_LIMIT_S, None)


def test_the_meter_names_become_service_and_operation(bench):
    assert bench.request_name("DynamoDB_20120810", "Query") == "DynamoDB:Query"
    assert bench.request_name("RekognitionService", "SearchFaces") == "Rekognition:SearchFaces"
    assert bench.request_name("NewService", "Op") == "NewService:Op"
    assert bench.by_service({"DynamoDB:Query": 3, "DynamoDB:GetItem": 2, "S3:ListObjectsV2": 1}) == {
        "DynamoDB": 5,
        "S3": 1,
    }


def test_growth_is_the_slope_of_log_requests_over_log_photos(bench):
    sizes = [1_000, 10_000, 100_000]
    assert bench.growth_exponent(sizes, [5, 50, 500]) == pytest.approx(1.0)  # one per photo
    assert bench.growth_exponent(sizes, [7, 7, 7]) == pytest.approx(0.0)  # bounded
    assert bench.growth_exponent(sizes, [3, 3 * math.sqrt(10), 30]) == pytest.approx(0.5)
    # least squares through three points that are not on one line
    assert bench.growth_exponent(sizes, [10, 20, 1000]) == pytest.approx(math.log10(1000 / 10) / 2)


def test_growth_needs_two_sizes_with_something_counted(bench):
    assert bench.growth_exponent([1_000], [5]) is None
    assert bench.growth_exponent([1_000, 10_000], [0, 0]) is None
    assert bench.growth_exponent([1_000, 10_000, 100_000], [0, 10, 100]) == pytest.approx(1.0)


def test_background_work_is_within_its_limit_only_when_finished_and_each_invocation_fits(bench):
    job = {"finished": True, "projected_s_per_invocation": 12.0, "limit_s": 60}
    assert bench.within_limit(0.4, 30, job)
    assert not bench.within_limit(0.4, 30, {**job, "finished": False})
    assert not bench.within_limit(0.4, 30, {**job, "projected_s_per_invocation": 61.0})
    assert not bench.within_limit(30.5, 30, None)


def test_s3_requests_are_named_by_operation(bench):
    assert bench.s3_operation("GET", "", "list-type=2&prefix=a%2F") == "ListObjectsV2"
    assert bench.s3_operation("GET", "", "versions&prefix=a%2F") == "ListObjectVersions"
    assert bench.s3_operation("POST", "", "delete") == "DeleteObjects"
    assert bench.s3_operation("HEAD", "a/b/raw/x.jpg", "") == "HeadObject"
    assert bench.s3_operation("GET", "a/b/raw/x.jpg", "versionId=1") == "GetObject"


def test_growth_table_reads_each_operation_at_each_size(bench):
    def run(photos, inside, projected, pages):
        job = {"projected_s_per_invocation": 2.5, "invocations": pages, "finished": True, "limit_s": 60}
        operation = {
            "key": "faces_off",
            "name": "faces off",
            "foreground_requests": inside,
            "projected_s": projected,
            "requests_total": inside + 40 * pages,
            "within_limit": True,
            "background": job,
        }
        return {"photos": photos, "operations": [operation]}

    # the request does a bounded amount; the job's pages grow with the event, each the same size
    (row,) = bench.growth([run(1_000, 6, 0.1, 2), run(10_000, 6, 0.1, 20), run(100_000, 6, 0.1, 200)])
    assert row["requests"] == [6, 6, 6] and row["growth_requests"] == 0.0
    assert row["growth_projected_s"] == 0.0 and row["growth_background_per_invocation"] == 0.0
    assert row["all_requests"] == [86, 806, 8006] and row["growth_all_requests"] == pytest.approx(
        0.98, abs=0.01
    )


# ---------------------------------------------------------------- the planned event


def test_the_planned_event_has_a_bib_in_300_photos_two_bibs_and_about_one_and_a_half_faces(bench):
    plan = bench.plan_event(2_000, 500)
    counts = plan.bib_counts()
    assert counts[plan.hot_bib] == 300 == max(counts.values())
    assert all(len(photo.bibs) == 2 == len(set(photo.bibs)) for photo in plan.photos)
    faces = sum(len(photo.faces) for photo in plan.photos) / len(plan.photos)
    assert 1.4 < faces < 1.7
    face_id = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # Rekognition's
    assert all(face_id.fullmatch(face.face_id) for photo in plan.photos for face in photo.faces)
    assert len({photo.photo_id for photo in plan.photos}) == 2_000
    assert plan_is_repeatable(bench, plan)


def plan_is_repeatable(bench, plan) -> bool:
    again = bench.plan_event(2_000, 500)
    return [p.faces for p in again.photos] == [p.faces for p in plan.photos]


def test_the_hot_runners_face_is_where_the_correction_spread_starts(bench):
    plan = bench.plan_event(1_000, 300)
    by_id = {photo.photo_id: photo for photo in plan.photos}
    for photo_id, face in plan.face_only.items():
        photo = by_id[photo_id]
        leftmost_first = sorted(photo.faces, key=lambda f: f.box["left"])
        assert leftmost_first[face - 1].identity == f"runner-{plan.hot_bib}"
        assert plan.hot_bib not in photo.bibs
    assert len(plan.face_only) == 60


def test_photos_are_taken_within_the_time_searchs_window_of_their_first_runners_passing(bench):
    from pipeline.timing import rules

    plan = bench.plan_event(300, 100)
    runners = {runner.bib: runner for runner in plan.runners}
    for photo in plan.photos[:50]:
        passing = bench.passing_seconds(runners[photo.bibs[0]], plan.checkpoint_of[photo.camera])
        shot = rules.shot_seconds(photo.taken_at) % 86_400 + plan.camera_offsets[photo.camera]
        assert abs(shot - passing) <= rules.WINDOW_SECONDS


# ---------------------------------------------------------------- moto, at the size of a big event


def seeded_store(bench):
    from pipeline.store import Store

    plan = bench.plan_event(60, 30)
    built = bench.EventItems(plan, TABLE, BUCKET)
    table = boto3.resource("dynamodb", region_name=REGION).Table(TABLE)
    with table.batch_writer() as batch:
        for chunk in [*built.photos(chunk=50), built.event(bench.results_csv(plan))]:
            for item in chunk:
                batch.put_item(Item=item)
    store = Store(table)
    for camera, checkpoint in plan.checkpoint_of.items():
        store.timing.put_camera(bench.ORG, bench.EVENT, camera, checkpoint, 0.0)
    return plan, store


def everything(pages) -> list:
    """Every item of a paginated read: pages(start) -> (items, next start)."""
    found, start = [], None
    while True:
        items, start = pages(start)
        found += items
        if not start:
            return found


def answers(bench, plan, store) -> dict:
    """What the store's reads answer, each kind of Query pipeline.store makes."""
    from pipeline.timing import rules

    org, event = bench.ORG, bench.EVENT
    current = store.timing.current(org, event)
    taken = rules.seconds_of(next(photo.taken_at for photo in plan.photos if photo.camera == "cam03"))
    return {
        "event": store.core.event_items(org, event),
        "keys": store.core.query_prefix(f"ORG#{org}#EVT#{event}", "TIMING#", keys_only=True),
        "photos": everything(lambda start: store.photos.page_of_event(org, event, 7, start)),
        "gallery": everything(lambda start: store.photos.gallery(org, event, 9, start)),
        "bib": store.bibs.photos_with(org, event, plan.hot_bib),
        "longer": store.bibs.longer(org, event, "1", limit=5),
        "review": store.corrections.review_queue(org, event, 6),
        "camera": store.timing.camera_photos(org, event, "cam02"),
        "window": store.timing.camera_photos(
            org, event, "cam03", rules.clock_text(taken - 600), rules.clock_text(taken + 600)
        ),
        "names": store.timing.named(org, event, current["importId"], ["kim"], 10),
        "runners": store.timing.all_runners(org, event, current["importId"]),
    }


@pytest.mark.slow  # thousands of moto writes: seconds each
def test_sorted_queries_answer_what_moto_answers(aws, bench, moto_at_scale):
    plan, store = seeded_store(bench)
    stock = answers(bench, plan, store)
    assert len(stock["gallery"]) == 60 and stock["review"] and stock["window"] and stock["names"]
    moto_at_scale.install()
    assert answers(bench, plan, store) == stock


@pytest.mark.slow  # thousands of moto writes: seconds each
def test_sorted_queries_follow_writes_that_add_remove_and_move_index_keys(aws, bench, moto_at_scale):
    plan, store = seeded_store(bench)
    moto_at_scale.install()
    answers(bench, plan, store)  # the sorted lists are made
    first, second = plan.photos[0].photo_id, plan.photos[1].photo_id
    table, pk = store.table, f"ORG#{bench.ORG}#EVT#{bench.EVENT}"
    table.update_item(
        Key={"PK": pk, "SK": f"PHOTO#{first}"},
        UpdateExpression="SET galleryKey = :g, reviewKey = :r",
        ExpressionAttributeValues={":g": "2030-01-01T00:00:00+00:00#x", ":r": "00#first"},
    )
    table.update_item(
        Key={"PK": pk, "SK": f"PHOTO#{second}"}, UpdateExpression="REMOVE galleryKey, cameraKey"
    )
    table.delete_item(Key={"PK": pk, "SK": f"BIB#{plan.photos[2].bibs[0]}#PHOTO#{plan.photos[2].photo_id}"})
    table.put_item(Item={"PK": pk, "SK": "BIB#1#PHOTO#new", "bib": "1", "photoId": "new"})
    sorted_answers = answers(bench, plan, store)
    assert sorted_answers["gallery"][0]["photoId"] == first
    assert second not in {item["photoId"] for item in sorted_answers["gallery"]}
    moto_at_scale.uninstall()
    assert sorted_answers == answers(bench, plan, store)


@pytest.mark.slow  # thousands of moto writes: seconds each
def test_a_cancelled_transaction_leaves_every_item_as_it_was(aws, bench, moto_at_scale):
    plan, store = seeded_store(bench)
    moto_at_scale.install()
    org, event, photo = bench.ORG, bench.EVENT, plan.photos[3]
    item = store.photos.get(org, event, photo.photo_id)
    before = answers(bench, plan, store)
    reads = store.bibs.of_photo(org, event, photo.photo_id, item["bibs"])
    stale = {**item, "executionName": "another-run"}  # a run wrote the photo since: the condition fails
    assert not store.corrections.write_corrected(stale, [{**reads[0], "bib": "9999"}], None)
    assert answers(bench, plan, store) == before
    assert store.corrections.write_corrected(item, reads[:1], {"by": "key:test", "at": "2026-04-12T10:00:00"})
    after = answers(bench, plan, store)
    assert store.photos.get(org, event, photo.photo_id)["bibs"] == [reads[0]["bib"]]
    moto_at_scale.uninstall()
    assert after == answers(bench, plan, store)


def test_a_deep_queue_hands_out_what_moto_hands_out(moto_at_scale):
    from moto import mock_aws

    def hand_out(sqs, url: str) -> list:
        """Batches of 7 until none is visible (kept in flight), then the deletion of one batch and
        what the queue says it holds."""
        for number in range(40):
            sqs.send_message(QueueUrl=url, MessageBody=str(number))
        batches = []
        while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=7, VisibilityTimeout=60).get(
            "Messages", []
        ):
            batches.append(got)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batches[0])],
        )
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        held = {
            name: counts[name]
            for name in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
        }
        return [[m["Body"] for m in batch] for batch in batches] + [held]

    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        stock = hand_out(sqs, sqs.create_queue(QueueName="stock")["QueueUrl"])
        moto_at_scale.install()
        assert hand_out(sqs, sqs.create_queue(QueueName="deep")["QueueUrl"]) == stock
    assert [len(batch) for batch in stock[:-1]] == [7, 7, 7, 7, 7, 5]
    assert stock[-1] == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "33"}


def test_object_versions_are_listed_as_moto_lists_them(moto_at_scale):
    from moto import mock_aws

    def listing(s3, bucket: str) -> list:
        """Every page of 7 of the event's versions: what a purge plan reads."""
        pages = s3.get_paginator("list_object_versions").paginate(
            Bucket=bucket, Prefix="acme/race/", PaginationConfig={"PageSize": 7}
        )
        return [
            [
                (v["Key"], v["VersionId"], v["IsLatest"])
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            for page in pages
        ]

    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="versions", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket="versions", VersioningConfiguration={"Status": "Enabled"})
        for number in range(12):
            for folder in ("acme/race/raw/", "acme/race/thumbnails/", "acme/other/raw/"):
                s3.put_object(Bucket="versions", Key=f"{folder}{number:02d}.jpg", Body=b"a")
        s3.put_object(Bucket="versions", Key="acme/race/raw/03.jpg", Body=b"b")  # a second version
        s3.delete_object(Bucket="versions", Key="acme/race/raw/05.jpg")  # a delete marker
        stock = listing(s3, "versions")
        moto_at_scale.install()
        assert listing(s3, "versions") == stock
    listed = [entry for page in stock for entry in page]
    assert len(listed) == 26 and {len(page) for page in stock[:-1]} == {7}
    assert [latest for key, _, latest in listed if key == "acme/race/raw/03.jpg"] == [True, False]
