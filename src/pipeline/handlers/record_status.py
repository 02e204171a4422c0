"""RecordStatusFunction, behind the RecordRejection and RecordFailure states.

Stores the photo with status REJECTED (the upload can never be indexed: the starter's "reject"
action, or an InvalidImage error) or FAILED (anything unexpected), with a readable reason, and
removes whatever an earlier run or this one left (bibs, faces, derived objects): no upload is ever
silently lost, and a photo that is not INDEXED is not findable.
"""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from pipeline.common.errors import reason_from_state_error
from pipeline.common.models import StepState
from pipeline.handlers import step_photo
from pipeline.processing import results

logger = Logger()
metrics = Metrics()
METRIC_BY_STATUS = {results.REJECTED: "PhotosRejected", results.FAILED: "PhotosFailed"}


def outcome_of(state: StepState) -> results.Outcome:
    """REJECTED or FAILED, the reason, and the faces this run had already indexed."""
    detections = state.get("detections") or {}
    error = state.get("error") or next(iter(detections.get("errors") or []), None)
    if state.get("action") == "reject":
        status, reason = results.REJECTED, state.get("reason") or "unsupported upload"
    elif error and error.get("Error") == "InvalidImage":
        status, reason = results.REJECTED, reason_from_state_error(error)
    else:
        status, reason = results.FAILED, reason_from_state_error(error)
    faces = detections.get("faces") or []
    return results.Outcome(status=status, attributes={"reason": reason}, faces=faces)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: StepState, context) -> dict:
    photo = step_photo(event, logger)
    outcome = outcome_of(event)
    status = results.default_store().save(photo, event["photo"], event["executionName"], outcome)
    if status in METRIC_BY_STATUS:
        metrics.add_metric(name=METRIC_BY_STATUS[status], unit=MetricUnit.Count, value=1)
    logger.info("Photo recorded", extra={"status": status, "reason": outcome.attributes["reason"]})
    return {"status": status, "reason": outcome.attributes["reason"]}
