"""Uploading a photographer's files to an event: what to send, and sending it resumably."""

import hashlib
import mimetypes
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError

from pipeline.common import keys
from snaprace.operations import validate_ids
from snaprace.stack import Stack, StackError

SKIPPED_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}


@dataclass
class UploadPlan:
    path: Path
    key: str


@dataclass
class UploadReport:
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already there with the same content
    failed: dict[str, str] = field(default_factory=dict)  # path -> error
    not_started: list[str] = field(default_factory=list)  # stopped (Ctrl-C) before these began


def plan_uploads(
    paths: Iterable[Path], org_id: str, event_id: str, photographer: str | None, force: bool = False
) -> tuple[list[UploadPlan], list[Path]]:
    """(what to upload, what was left out): files as given; folders recursively, keeping their
    sub-folders in the key. Files the pipeline cannot read (RAW, video, sidecars: not
    keys.PHOTO_SUFFIXES) are left out unless `force` (it would reject them, with a reason); OS
    litter always is."""
    validate_ids(org_id, event_id, photographer)
    prefix = keys.raw_prefixes(org_id, event_id)[0] + (f"{photographer}/" if photographer else "")
    plans, unsupported = [], []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
            found = [
                UploadPlan(f, prefix + f.relative_to(path).as_posix())
                for f in files
                if f.name.lower() not in SKIPPED_NAMES and not f.name.startswith("._")
            ]
        elif path.is_file():
            found = [UploadPlan(path, prefix + path.name)]
        else:
            raise StackError(f"{path}: no such file or folder")
        for plan in found:
            if force or plan.path.suffix.lower() in keys.PHOTO_SUFFIXES:
                plans.append(plan)
            else:
                unsupported.append(plan.path)
    return plans, unsupported


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def upload(
    stack: Stack,
    plans: list[UploadPlan],
    concurrency: int = 8,
    on_done: Callable[[UploadPlan], None] = lambda plan: None,
    stop: threading.Event | None = None,
) -> UploadReport:
    """Put each file (single-part, so the ETag is its MD5); skip it when the bucket already has
    that key with the same content, so an interrupted upload can simply be run again. Once `stop`
    is set (Ctrl-C), no file begins: those in the middle of their PUT finish, the rest are listed
    as not started."""
    s3, bucket = stack.client("s3"), stack.bucket
    report = UploadReport()
    stop = stop or threading.Event()

    def one(plan: UploadPlan) -> str:
        if stop.is_set():
            return "not started"
        md5 = _md5(plan.path)
        try:
            head = s3.head_object(Bucket=bucket, Key=plan.key)
            if keys.normalise_etag(head.get("ETag")) == md5:
                return "skipped"
        except ClientError as exc:
            if not keys.is_missing_object(exc):
                raise
        with plan.path.open("rb") as body:
            s3.put_object(
                Bucket=bucket,
                Key=plan.key,
                Body=body,
                ContentType=mimetypes.guess_type(plan.path.name)[0] or "application/octet-stream",
                ServerSideEncryption="AES256",
            )
        return "uploaded"

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        futures = {pool.submit(one, plan): plan for plan in plans}
        for future in as_completed(futures):
            plan = futures[future]
            try:
                outcome = future.result()
                {"uploaded": report.uploaded, "skipped": report.skipped, "not started": report.not_started}[
                    outcome
                ].append(plan.key)
            except Exception as exc:  # noqa: BLE001 - report per file, keep going
                report.failed[str(plan.path)] = str(exc)
            on_done(plan)
    return report
