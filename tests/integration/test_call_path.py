"""A SaveResults event reads in one place: followed through its calls (tools/call_path.py), it
returns to a domain file it had left at most 3 times (issue 29; today 1)."""

import importlib.util
import json

import boto3
from conftest import BUCKET, REGION, ROOT

spec = importlib.util.spec_from_file_location("call_path", ROOT / "tools" / "call_path.py")
call_path = importlib.util.module_from_spec(spec)
spec.loader.exec_module(call_path)


def test_a_save_results_event_returns_to_a_domain_file_it_left_at_most_three_times(aws):
    from pipeline.handlers import save_results

    event = json.loads((ROOT / "events" / "save_results.json").read_text())
    s3 = boto3.client("s3", region_name=REGION)
    etag = s3.put_object(Bucket=BUCKET, Key=event["photo"]["rawKey"], Body=b"raw upload")["ETag"]
    event["photo"].update(bucket=BUCKET, etag=etag.strip('"'))
    entered = call_path.trace(save_results.lambda_handler, event)
    domain = call_path.stops([name for name in entered if not name.startswith(call_path.FLOOR)])
    assert domain[:2] == ["pipeline/handlers/save_results.py", "pipeline/processing/save.py"]
    assert "pipeline/processing/results.py" in domain  # it went all the way to the write
    assert call_path.returns(domain) <= 3, domain


def test_a_return_is_a_stop_in_a_file_already_left():
    path = call_path.stops(["a.py", "a.py", "b.py", "a.py", "c.py", "b.py"])
    assert path == ["a.py", "b.py", "a.py", "c.py", "b.py"] and call_path.returns(path) == 2
