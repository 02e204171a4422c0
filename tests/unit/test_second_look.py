"""pipeline.processing.second_look: which runners get a second look, the sheet's geometry (a box read on the
sheet lands where that text is in the photo), and the rules a second-look read must pass."""

import io

import pytest
from PIL import Image, ImageDraw

from pipeline.processing import links, second_look
from pipeline.processing.bibs import BibRules

FACE = {"left": 0.40, "top": 0.10, "width": 0.08, "height": 0.10}


def face(left, top, width=0.08, height=0.10, face_id=None) -> dict:
    found = {"box": {"left": left, "top": top, "width": width, "height": height}}
    if face_id:
        found["faceId"] = face_id
    return found


def word(text: str, box: dict, confidence: float = 99.0, ident: int = 1) -> dict:
    geometry = {"BoundingBox": {"Left": box[0], "Top": box[1], "Width": box[2], "Height": box[3]}}
    return {"DetectedText": text, "Type": "WORD", "Id": ident, "Confidence": confidence, "Geometry": geometry}


def test_a_torso_is_under_its_face_and_clipped_to_the_photo():
    left, top, right, bottom = second_look.torso(FACE)
    assert (left, right) == pytest.approx((0.44 - 0.12, 0.44 + 0.12))
    assert (top, bottom) == pytest.approx((0.20 + 0.03, 0.20 + 0.50))
    assert second_look.torso({"left": 0.95, "top": 0.8, "width": 0.05, "height": 0.1})[2:] == (1.0, 1.0)


def test_only_faces_without_a_linked_bib_are_looked_at_largest_first_and_at_most_eight():
    bib_under_first = {"bib": "1234", "box": {"left": 0.41, "top": 0.45, "width": 0.06, "height": 0.05}}
    faces = [face(0.40, 0.10, face_id="a"), face(0.10, 0.15, 0.05, 0.06), face(0.70, 0.12, 0.09, 0.11)]
    chosen = second_look.faces_without_bib([bib_under_first], faces, 1000, 1000)
    assert [c["box"]["left"] for c in chosen] == [0.70, 0.10]  # the linked face is left out
    crowd = [face(0.01 + 0.09 * i, 0.1, 0.05, 0.05 + i / 1000) for i in range(11)]
    chosen = second_look.faces_without_bib([], crowd, 1000, 1000)
    assert len(chosen) == second_look.MAX_TILES
    assert chosen[0]["box"]["height"] == pytest.approx(0.06)


def test_the_upload_is_decoded_only_when_the_processed_copy_is_too_small():
    small = [face(0.4, 0.1, 0.02, 0.02)]  # torso 0.094 of the height: 128 px in a 1365 px copy
    assert second_look.source_long_side(small, 2048, 1365, (6000, 4000)) == 6000
    big = [face(0.2, 0.05, 0.2, 0.18)]  # torso 0.8 of the height: 1092 px already
    assert second_look.source_long_side(big, 2048, 1365, (6000, 4000)) is None
    assert second_look.source_long_side(small, 480, 720, (480, 720)) is None  # nothing larger exists


def photo_with_marks(width=900, height=600) -> tuple[Image.Image, list[tuple[dict, dict]]]:
    """A photo with a black square under each of three faces; (image, [(face, square box)])."""
    image = Image.new("RGB", (width, height), (170, 210, 150))  # light enough in both views
    draw = ImageDraw.Draw(image)
    placed = []
    for index, left in enumerate((0.15, 0.45, 0.75)):
        runner = face(left, 0.1 + index * 0.05, 0.06, 0.09)
        square = {"left": left + 0.01, "top": 0.1 + index * 0.05 + 0.09 + 0.2, "width": 0.04, "height": 0.06}
        draw.rectangle(
            (
                square["left"] * width,
                square["top"] * height,
                (square["left"] + square["width"]) * width,
                (square["top"] + square["height"]) * height,
            ),
            fill=(0, 0, 0),
        )
        placed.append((runner, square))
    return image, placed


def test_a_box_on_the_sheet_maps_back_to_where_it_is_in_the_photo():
    image, placed = photo_with_marks()
    layout = second_look.sheet(image, [runner for runner, _ in placed])
    sheet = Image.open(io.BytesIO(layout.jpeg))
    assert sheet.size == (layout.width, layout.height) and len(layout.tiles) == 6  # two views each
    assert [tile.view for tile in layout.tiles[:2]] == ["colour", "darkest"]
    assert all(tile.height >= second_look.MIN_TILE_HEIGHT - 1 for tile in layout.tiles)  # enlarged
    pixels = sheet.convert("L").load()
    for tile in layout.tiles:
        square = next(square for runner, square in placed if runner is tile.face)
        # find the black square on the sheet, inside this tile
        dark = [
            (x, y)
            for x in range(tile.x, tile.x + tile.width, 4)
            for y in range(tile.y, tile.y + tile.height, 4)
            if pixels[x, y] < 40
        ]
        xs, ys = [x for x, _ in dark], [y for _, y in dark]
        box = (
            min(xs) / layout.width,
            min(ys) / layout.height,
            (max(xs) - min(xs)) / layout.width,
            (max(ys) - min(ys)) / layout.height,
        )
        ((mapped, mapped_tile),) = second_look.in_photo([word("1234", box)], layout)
        back = mapped["Geometry"]["BoundingBox"]
        assert mapped_tile is tile
        assert back["Left"] == pytest.approx(square["left"], abs=0.006)
        assert back["Top"] == pytest.approx(square["top"], abs=0.006)
        assert back["Width"] == pytest.approx(square["width"], abs=0.012)


def test_the_darkest_channel_view_shows_red_ink_as_dark_as_black():
    bib = Image.new("RGB", (60, 40), (250, 250, 250))
    ImageDraw.Draw(bib).rectangle((10, 10, 25, 30), fill=(220, 20, 30))  # a red digit's stroke
    ImageDraw.Draw(bib).rectangle((35, 10, 50, 30), fill=(20, 20, 20))
    grey = second_look.darkest_channel(bib).convert("L")
    assert grey.getpixel((17, 20)) < 40 and grey.getpixel((42, 20)) < 40
    assert grey.getpixel((5, 5)) > 240
    assert bib.convert("L").getpixel((17, 20)) > 70  # plain grey keeps red ink light


def test_words_in_the_gutter_belong_to_no_runner():
    image, placed = photo_with_marks()
    layout = second_look.sheet(image, [runner for runner, _ in placed])
    gutter = (layout.tiles[0].width + 2) / layout.width
    assert second_look.in_photo([word("77", (gutter, 0.5, 1 / layout.width, 0.01))], layout) == []


def tiles_for(runner: dict) -> second_look.Tile:
    return second_look.Tile(second_look.torso(runner["box"]), runner, "colour", 0, 0, 100, 200)


def read(text: str, box: dict, runner: dict, confidence: float = 99.0) -> tuple[dict, second_look.Tile]:
    return word(text, (box["left"], box["top"], box["width"], box["height"]), confidence), tiles_for(runner)


UNDER = {"left": 0.41, "top": 0.45, "width": 0.06, "height": 0.05}  # where FACE's bib is


def test_a_read_under_its_face_is_added_with_the_face_it_came_from():
    runner = {"box": FACE, "faceId": "f-1"}
    assert links.plausible(FACE, UNDER) is not None
    (found,) = second_look.reads([read("311", UNDER, runner)], [], BibRules(), 1.0)
    assert (found["bib"], found["faceId"], found["look"]) == ("311", "f-1", 2)
    (found,) = second_look.reads([read("311", UNDER, {"box": FACE})], [], BibRules(), 1.0)
    assert "faceId" not in found  # an unindexed face has nothing to link to


def test_reads_the_first_look_had_or_that_sit_on_its_bibs_or_away_from_the_face_are_not_added():
    runner = {"box": FACE}
    first = [{"bib": "621", "box": {"left": 0.40, "top": 0.45, "width": 0.07, "height": 0.05}}]
    part_of_621 = {"left": 0.43, "top": 0.45, "width": 0.04, "height": 0.05}
    assert second_look.reads([read("21", part_of_621, runner)], first, BibRules(), 1.0) == []
    assert second_look.reads([read("621", UNDER, runner)], first, BibRules(), 1.0) == []
    off_to_the_side = {"left": 0.70, "top": 0.45, "width": 0.06, "height": 0.05}
    assert second_look.reads([read("4847", off_to_the_side, runner)], [], BibRules(), 1.0) == []
    switched_off = second_look.SecondLookRules(not_first_look=False, placed_under_face=False)
    both = second_look.reads(
        [read("21", part_of_621, runner), read("4847", off_to_the_side, runner)],
        first,
        BibRules(),
        1.0,
        switched_off,
    )
    assert sorted(found["bib"] for found in both) == ["21", "4847"]


def test_a_runners_two_views_are_read_together():
    runner = {"box": FACE}
    colour, darkest = read("311", UNDER, runner, 90.4), read("11", UNDER, runner, 99.4)
    darkest = (darkest[0], second_look.Tile(darkest[1].region, runner, "darkest", 0, 0, 100, 200))
    found = second_look.reads([colour, darkest], [], BibRules(), 1.0)
    assert [f["bib"] for f in found] == ["311"]  # "11" is part of the longer number


def test_a_number_no_face_is_above_is_scenery_when_the_photo_has_faces():
    clock = {"bib": "3304", "box": {"left": 0.82, "top": 0.35, "width": 0.15, "height": 0.05}}
    worn = {"bib": "3719", "box": {"left": 0.43, "top": 0.50, "width": 0.11, "height": 0.04}}
    runner = {"box": {"left": 0.45, "top": 0.34, "width": 0.06, "height": 0.06}}
    assert second_look.worn([worn, clock], [runner], 480 / 720) == [worn]
    assert second_look.worn([worn, clock], [], 480 / 720) == [worn, clock]  # no faces: no way to tell
    off = second_look.SecondLookRules(worn=False)
    assert second_look.worn([worn, clock], [runner], 480 / 720, off) == [worn, clock]
    beside = {"bib": "2103", "box": {"left": 0.50, "top": 0.56, "width": 0.09, "height": 0.03}}
    neighbour = {"box": {"left": 0.62, "top": 0.48, "width": 0.04, "height": 0.03}}  # 2.4 face widths
    assert second_look.worn([beside], [neighbour], 480 / 720) == [beside]


def test_the_bib_rules_still_apply():
    runner = {"box": FACE}
    assert second_look.reads([read("2008", UNDER, runner)], [], BibRules(), 1.0) == []  # a year
    assert second_look.reads([read("311", UNDER, runner, confidence=60)], [], BibRules(), 1.0) == []


@pytest.mark.parametrize(
    ("participants", "expected"),
    [
        ({"1442", "2845"}, [("1442", "144")]),  # the start of exactly one participant's bib: that bib
        ({"144", "1442"}, [("144", None)]),  # a participant's own bib
        ({"1442", "7144"}, []),  # the start of one and the end of another: no evidence which
        ({"2845"}, []),  # no participant's
    ],
)
def test_a_partial_number_is_resolved_only_to_the_one_participant_it_can_be(participants, expected):
    rules = BibRules().for_event(participants=participants)
    found = second_look.reads([read("144", UNDER, {"box": FACE})], [], rules, 1.0)
    assert [(f["bib"], f.get("read")) for f in found] == expected
    without = second_look.reads(
        [read("144", UNDER, {"box": FACE})],
        [],
        rules,
        1.0,
        second_look.SecondLookRules(participant_partials=False),
    )
    assert [f["bib"] for f in without] == (["144"] if "144" in participants else [])


def test_a_participants_bib_is_not_lost_to_a_longer_misread_around_it():
    runner = {"box": FACE}
    rules = BibRules().for_event(participants={"979", "3521"})
    misread, right = read("1979", UNDER, runner, 86.6), read("979", UNDER, runner, 97.4)
    assert [f["bib"] for f in second_look.reads([misread, right], [], rules, 1.0)] == ["979"]
    # without a participant list "979" is part of the longer number, as in the first look
    assert [f["bib"] for f in second_look.reads([misread, right], [], BibRules(), 1.0)] == ["1979"]


def test_a_partial_read_is_the_longer_bib_its_runners_face_wears_elsewhere():
    face_box = {"left": 0.40, "top": 0.10, "width": 0.08, "height": 0.10}
    faces = [{"faceId": "here", "box": face_box}]
    partial = {"bib": "1026", "confidence": 99.0, "box": UNDER}
    elsewhere = {
        "1026": [
            {"bib": "10264", "photoId": "p2", "faceId": "there"},  # the same runner, another photo
            {"bib": "10265", "photoId": "p3", "faceId": "someone"},
            {"bib": "10266", "photoId": "p4"},  # no face linked there: no evidence
            {"bib": "10267", "photoId": "p1", "faceId": "there"},  # this photo's last run: no evidence
        ]
    }
    searched = []

    def same_runner(face_id):
        searched.append(face_id)
        return {"there"}

    def resolve(found, runner=same_runner, **kwargs):
        return second_look.same_runners_bibs(
            found, faces, (1000, 1000), lambda bib: elsewhere.get(bib, []), runner, "p1", 6, **kwargs
        )

    assert resolve([partial]) == [{**partial, "bib": "10264", "read": "1026"}]
    assert searched == ["here"]
    # two of the runner's faces wear different longer bibs: no evidence which
    assert resolve([partial], runner=lambda _: {"there", "someone"}) == [partial]
    # not the same runner, or no longer bib: the read stands, and no face search is made
    assert resolve([partial], runner=lambda _: set()) == [partial]
    searched.clear()
    other = {"bib": "311", "confidence": 99.0, "box": UNDER}
    assert resolve([other]) == [other] and searched == []
    # a read no face is linked to has no runner to ask about
    away = {
        "bib": "1026",
        "confidence": 99.0,
        "box": {"left": 0.9, "top": 0.9, "width": 0.05, "height": 0.05},
    }
    assert resolve([away]) == [away] and searched == []
    # the full number read in the same photo: the partial goes
    full = {
        "bib": "10264",
        "confidence": 98.0,
        "box": {"left": 0.1, "top": 0.8, "width": 0.06, "height": 0.05},
    }
    assert resolve([partial, full]) == [full]
    assert resolve([partial], extra=second_look.SecondLookRules(same_runner_partials=False)) == [partial]


def test_an_erased_runners_place_keeps_their_bib_worn_but_is_not_looked_at_again():
    erased = {"box": {"left": 0.40, "top": 0.10, "width": 0.08, "height": 0.10}, "erased": True}
    bib = {"bib": "761", "box": UNDER}
    assert second_look.worn([bib], [erased], 1.0) == [bib]
    assert second_look.faces_without_bib([], [erased], 1000, 1000) == []
