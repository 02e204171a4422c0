"""Where moto's behaviour differs from AWS in a way the pipeline depends on, the local stack
corrects it here (each with the AWS behaviour it restores). `install()` applies them all.

1. S3 -> EventBridge notifications as S3 really sends them. moto sends a fixed sequencer, `eTag`
instead of `etag` and no deletion type; the pipeline keys executions on the sequencer (a re-upload
after a delete must run again), so the local stack replaces moto's sender with one that follows
the documented event shape: https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
"""

import itertools
import re
import sys
import threading
import time
import uuid
from urllib.parse import quote_plus

from moto.s3 import notifications

_counter = itertools.count(int(time.time() * 1000) << 16)
_lock = threading.Lock()
_REASONS = {
    "Put": "PutObject",
    "Post": "PostObject",
    "Copy": "CopyObject",
    "CompleteMultipartUpload": "CompleteMultipartUpload",
}


def _sequencer() -> str:
    with _lock:
        return f"{next(_counter):018X}"


def s3_event(account_id: str, bucket, event_name: str, key) -> dict | None:
    reason = event_name.partition(":")[2].partition(":")[2]  # s3:ObjectCreated:Put -> Put
    if event_name.startswith("s3:ObjectCreated:"):
        detail_type = "Object Created"
        obj = {"key": quote_plus(key.name, safe="/"), "size": key.size, "etag": key.etag.strip('"')}
    elif event_name.startswith("s3:ObjectRemoved:"):
        detail_type = "Object Deleted"
        obj = {"key": quote_plus(key.name, safe="/")}
    else:
        return None
    if getattr(key, "version_id", None) and key.version_id != "null":
        obj["version-id"] = key.version_id
    obj["sequencer"] = _sequencer()
    detail = {
        "version": "0",
        "bucket": {"name": bucket.name},
        "object": obj,
        "request-id": uuid.uuid4().hex[:16].upper(),
        "requester": account_id,
        "source-ip-address": "127.0.0.1",
        "reason": _REASONS.get(reason, "DeleteObject"),
    }
    if detail_type == "Object Deleted":
        detail["deletion-type"] = (
            "Delete Marker Created" if reason == "DeleteMarkerCreated" else "Permanently Deleted"
        )
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": account_id,
        "time": time.time(),  # moto's rule target writes it as ISO 8601, as EventBridge does
        "region": bucket.region_name,
        "resources": [bucket.arn],
        "detail": detail,
    }


def _send_event_bridge_message(account_id: str, bucket, event_name, key) -> None:
    from moto.events.models import events_backends

    event = s3_event(account_id, bucket, str(getattr(event_name, "value", event_name)), key)
    if event is None:
        return
    backend = events_backends[account_id][bucket.region_name]
    for event_bus in backend.event_buses.values():
        for rule in list(event_bus.rules.values()):
            if rule.state == "ENABLED":
                rule.send_to_targets(event, transform_input=False)


# 2. Step Functions JSONPath: a definite path such as `$[1].faces` (how a Parallel state's
# ResultSelector reads one branch) selects that value. moto wraps any value reached through an
# array index in a list ([faces] instead of faces), which AWS does only for indefinite paths
# (wildcards, slices, filters). https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html
_INDEFINITE = re.compile(r"\*|\.\.|\?\(|\[[^\]]*[:,][^\]]*\]")


def _extract_json(path: str, data):
    from moto.stepfunctions.parser.asl.utils import json_path

    if not _INDEFINITE.search(path):
        matches = json_path.parse(path).find(data)
        if len(matches) == 1:
            return matches[0].value
    return _original_extract_json(path, data)


_original_extract_json = None


def _install_json_path() -> None:
    global _original_extract_json
    from moto.stepfunctions.parser import models  # noqa: F401 - loads the interpreter's modules
    from moto.stepfunctions.parser.asl.utils import json_path

    if _original_extract_json is not None:
        return
    _original_extract_json = json_path.extract_json
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "extract_json", None) is (
            _original_extract_json
        ):
            module.extract_json = _extract_json


# 3. Deleting an object in a versioned bucket creates a delete marker, and S3 notifies
# s3:ObjectRemoved:DeleteMarkerCreated. moto notifies nothing in that case, so the pipeline would
# never hear of the deletion. Deleting one version for good is notified (s3:ObjectRemoved:Delete)
# for every version; moto notifies only the key's last one.
def _notify_delete_markers() -> None:
    from moto.s3.models import S3Backend

    original = S3Backend.delete_object
    if getattr(original, "_snaprace", False):
        return

    def delete_object(self, bucket_name, key_name, version_id=None, bypass=False):
        bucket = self.get_bucket(bucket_name)
        doomed = None
        if version_id is not None and key_name in bucket.keys:
            doomed = next(
                (k for k in bucket.keys.getlist(key_name) if str(k.version_id) == str(version_id)), None
            )
        deleted, meta = original(self, bucket_name, key_name, version_id=version_id, bypass=bypass)
        if deleted and doomed is not None and key_name in bucket.keys:  # moto sent nothing
            notifications.send_event(
                self.account_id, notifications.S3NotificationEvent.OBJECT_REMOVED_DELETE_EVENT, bucket, doomed
            )
        if deleted and version_id is None and meta.get("delete-marker") == "true":
            bucket = self.get_bucket(bucket_name)
            marker = next(k for k in bucket.keys.getlist(key_name) if str(k.version_id) == meta["version-id"])
            notifications.send_event(
                self.account_id,
                notifications.S3NotificationEvent.OBJECT_REMOVED_DELETE_MARKER_CREATED_EVENT,
                bucket,
                marker,
            )
        return deleted, meta

    delete_object._snaprace = True
    S3Backend.delete_object = delete_object


# 4. GetBucketNotificationConfiguration answers EventBridgeConfiguration when EventBridge
# notifications are on (`snaprace preflight` checks it); moto leaves it out.
def _report_eventbridge_configuration() -> None:
    from moto.s3.responses import S3Response

    original = S3Response.get_bucket_notification
    if getattr(original, "_snaprace", False):
        return

    def get_bucket_notification(self):
        answer = original(self)
        configuration = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if configuration is None or configuration.event_bridge is None:
            return answer
        status, headers, body = answer
        text = body.decode() if isinstance(body, bytes) else body
        if "<EventBridgeConfiguration" not in text:
            if "</NotificationConfiguration>" in text:
                text = text.replace(
                    "</NotificationConfiguration>", "<EventBridgeConfiguration/></NotificationConfiguration>"
                )
            else:  # moto answered an empty configuration
                text = (
                    '<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                    "<EventBridgeConfiguration/></NotificationConfiguration>"
                )
        return status, {k: v for k, v in headers.items() if k.lower() != "content-length"}, text.encode()

    get_bucket_notification._snaprace = True
    S3Response.get_bucket_notification = get_bucket_notification


# 5. DynamoDB applies each write to an item atomically: a conditional update is checked and made
# in one step, so two callers never both pass the same condition (the Rekognition governors count
# on it: pipeline.common.governor). moto checks and writes without a lock; its writes are
# serialised here. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html
_writes = threading.RLock()


def serialise_dynamodb_writes() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        method = getattr(DynamoDBBackend, name)
        if getattr(method, "serialised", False):
            continue

        def serialised(*args, _method=method, **kwargs):
            with _writes:
                return _method(*args, **kwargs)

        serialised.serialised = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, serialised)


def install() -> None:
    notifications._send_event_bridge_message = _send_event_bridge_message
    serialise_dynamodb_writes()
    _notify_delete_markers()
    _install_json_path()
    _report_eventbridge_configuration()
