"""The timing rules: reading a results export, camera offsets, time windows, names."""

import datetime
import random

import pytest

from pipeline.timing import results_file
from pipeline.timing import rules as timing
from pipeline.timing.results_file import Columns
from pipeline.timing.rules import InvalidTiming

DAY = datetime.date(2026, 4, 12)
SEOUL = timing.event_zone("Asia/Seoul")


def parse(text: str, columns: Columns | None = None) -> timing.Results:
    return results_file.parse_results(text, columns or Columns(), DAY, SEOUL)


def test_a_results_file_gives_each_runner_their_passings_and_name():
    results = parse(
        "Bib,Checkpoint,Time,Name\n"
        "101,10K,09:41:07.4,Jörg Müller\n"
        "101,FINISH,10:22:31,Jörg Müller\n"
        "102,10K,09:41:09,\n"
    )
    assert results.rows == 3
    assert results.checkpoints == ["10K", "FINISH"]
    assert results.runners["101"].name == "Jörg Müller"
    assert results.runners["101"].passings == {
        "10K": ["2026-04-12T09:41:07.400000"],
        "FINISH": ["2026-04-12T10:22:31"],
    }
    assert results.runners["102"].name is None


def test_a_vendors_columns_are_mapped_and_semicolons_read():
    # a RACE RESULT raw data export as a European spreadsheet saves it: semicolons, its own names
    text = "Bib;Timing Point;Time;First Name;Last Name\n7;START;08:00:03;Ana;Lima\n"
    results = parse(text, Columns("Bib", "Timing Point", "Time", ("First Name", "Last Name")))
    assert results.runners["7"].name == "Ana Lima"
    assert results.runners["7"].passings == {"START": ["2026-04-12T08:00:03"]}


def test_every_bad_row_is_refused_with_its_line_and_nothing_is_returned():
    text = (
        "bib,checkpoint,time,name\n"
        "101,10K,09:41:07,A\n"
        "abc,10K,09:41:07,B\n"  # line 3: not a bib
        "102,10K,25:00:00,C\n"  # line 4: no such hour
        "103,,09:41:07,D\n"  # line 5: no checkpoint
        "101,FINISH,10:00:00,Someone Else\n"  # line 6: another name for 101
    )
    with pytest.raises(InvalidTiming) as refused:
        parse(text)
    message = str(refused.value)
    assert message.startswith("4 rows refused, nothing imported")
    for line in ("line 3:", "line 4:", "line 5:", "line 6:"):
        assert line in message
    assert "line 2:" not in message


def test_a_line_csv_cannot_read_refuses_the_file_by_its_line():
    with pytest.raises(InvalidTiming, match="line 3: not readable as CSV"):
        parse("bib,checkpoint,time\n1,10K,09:00:00\n2,10K," + "x" * 200_000 + "\n")


def test_a_missing_column_names_the_header_and_the_option():
    with pytest.raises(InvalidTiming, match=r"line 1: no column for time.*--time-column.*'Chip Time'"):
        parse("bib,checkpoint,Chip Time\n1,10K,00:41:00\n")


def test_reads_close_together_are_one_passing_and_an_out_and_back_is_two():
    results = parse("bib,checkpoint,time\n5,TURN,09:10:02\n5,TURN,09:10:00\n5,TURN,09:50:30\n")
    assert results.runners["5"].passings["TURN"] == ["2026-04-12T09:10:00", "2026-04-12T09:50:30"]


def test_a_date_time_with_an_offset_becomes_the_events_local_time():
    results = parse("bib,checkpoint,time\n5,FINISH,2026-04-12T01:30:00Z\n")
    assert results.runners["5"].passings["FINISH"] == ["2026-04-12T10:30:00"]  # Seoul is UTC+9


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(InvalidTiming, match="IANA"):
        timing.event_zone("Mars/Olympus")


def test_an_offset_is_found_among_wrong_reads():
    rng = random.Random(7)
    truth = 3600.0 + 12.0  # the camera runs an hour and 12 s behind
    pairs = [(f"p{i}", truth + rng.uniform(-2, 2)) for i in range(30)]
    pairs += [(f"w{i}", rng.uniform(-7200, 7200)) for i in range(15)]  # misreads: other runners' times
    estimate = timing.estimate_offset(pairs)
    assert abs(estimate.offset - truth) < 1.0
    assert estimate.photos == 30
    assert 0.5 < estimate.spread < 2.5
    assert estimate.candidates == 45


def test_too_few_agreeing_photos_make_no_estimate():
    assert timing.estimate_offset([("a", 5.0), ("b", 6.0), ("c", 900.0)]) is None
    assert timing.estimate_offset([]) is None


def test_a_cameras_window_covers_whole_seconds_around_the_passing():
    passing = timing.seconds_of("2026-04-12T09:41:07")
    first, last = timing.camera_window(passing + 0.4, offset=3600.0, window=1.5)
    # stamped whole seconds are taken, on average, half a second after the stamp
    assert (first, last) == ("2026-04-12T08:41:05", "2026-04-12T08:41:09")


def test_a_camera_whose_photos_scatter_gets_a_wider_window_within_bounds():
    assert timing.camera_window_seconds({"estimate": {"offset": 9, "spread": 0.6}}) == timing.WINDOW_SECONDS
    assert timing.camera_window_seconds({"estimate": {"offset": 9, "spread": 1.6}}) == 3.2
    assert (
        timing.camera_window_seconds({"estimate": {"offset": 9, "spread": 40}}) == timing.MAX_WINDOW_SECONDS
    )
    assert (
        timing.camera_window_seconds({"clockOffset": 5, "estimate": {"spread": 2}}) == timing.WINDOW_SECONDS
    )


def test_the_camera_offset_set_by_hand_wins_over_the_estimate():
    assert timing.camera_offset({"clockOffset": -4, "estimate": {"offset": 3600}}) == -4.0
    assert timing.camera_offset({"estimate": {"offset": 3600}}) == 3600.0
    assert timing.camera_offset({}) is None


@pytest.mark.parametrize(
    ("photo", "others", "left_out"),
    [
        ({"bibs": ["9"], "faceIds": ["f"]}, {"9": [100.2]}, True),  # 9's moment; 5 passed 2.3 s later
        ({"bibs": ["9"], "faceIds": ["f", "g"]}, {"9": [100.2]}, False),  # someone unidentified
        ({"bibs": ["9"], "faceIds": []}, {"9": [102.0]}, False),  # 5 ran beside 9: perhaps hidden
        ({"bibs": ["9"], "faceIds": []}, {"9": [110.0]}, False),  # 9 was not there: a wrong read?
        ({"bibs": [], "faceIds": []}, {}, False),  # nothing read: could be anyone
        ({"bibs": ["5", "9"], "faceIds": []}, {"9": [100.0]}, False),  # the runner's bib read
    ],
)
def test_a_photo_is_left_out_only_when_it_is_safely_someone_elses_moment(photo, others, left_out):
    assert timing.someone_elses_moment(photo, "5", 102.5, others, corrected=100.0) is left_out


def test_names_compare_without_accents_or_case():
    assert timing.name_tokens("Jörg MÜLLER-Straße") == ["jorg", "muller", "strasse"]
    assert timing.name_matches(timing.name_tokens("mul jo"), timing.name_tokens("Jörg Müller"))
    assert not timing.name_matches(timing.name_tokens("mueller"), timing.name_tokens("Jörg Müller"))
    assert timing.name_matches(timing.name_tokens("김민"), timing.name_tokens("김민준"))


def test_a_cameras_time_drops_the_offset_it_wrote():
    assert timing.camera_time("2026-04-12T09:31:05+09:00") == "2026-04-12T09:31:05"
    assert timing.camera_time("not a time") is None
    assert timing.camera_time(None) is None
