"""Configuration: every environment variable the functions read, declared in template.yaml (a
test checks). Limits that are not deployment choices are constants where they are used
(pipeline.processing.images, pipeline.processing.bibs, pipeline.common.rekognition)."""

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Config:
    stage: str
    bucket_name: str
    table_name: str
    state_machine_arn: str
    upload_queue_url: str
    job_queue_url: str
    collection_prefix: str
    bib_min_length: int | None  # None: pipeline.processing.bibs.BibRules' own default
    bib_max_length: int | None
    quota_table_name: str  # "": calls not governed (pipeline.common.governor)
    rekognition_quotas: dict[str, float]  # API -> this account's TPS quota (template.yaml DetectTextTps, ...)
    runner_search_share: float
    public_searches_per_minute: int
    public_selfies_per_hour: int
    signing_key_secret_name: str


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _optional_int(name: str) -> int | None:
    value = os.environ.get(name)
    return None if value is None else int(value)


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


GOVERNED = ("DetectText", "IndexFaces", "SearchFaces", "SearchFacesByImage")  # pipeline.common.governor
DEFAULT_QUOTA_TPS = 5.0  # many regions' default for each of them


def _quotas(value: str) -> dict[str, float]:
    """ "DetectText=5,IndexFaces=5,..." -> {"DetectText": 5.0, ...}; an API not named: 5."""
    quotas = dict.fromkeys(GOVERNED, DEFAULT_QUOTA_TPS)
    for pair in filter(None, (part.strip() for part in value.split(","))):
        api, _, tps = pair.partition("=")
        quotas[api.strip()] = float(tps)
    return quotas


@cache
def get_config() -> Config:
    """Read the environment once per container (tests call get_config.cache_clear())."""
    stage = os.environ.get("STAGE", "dev")
    return Config(
        stage=stage,
        bucket_name=os.environ.get("BUCKET_NAME", f"snaprace-images-{stage}"),
        table_name=os.environ.get("TABLE_NAME", f"PhotoService-{stage}"),
        state_machine_arn=os.environ.get("STATE_MACHINE_ARN", ""),
        upload_queue_url=os.environ.get("UPLOAD_QUEUE_URL", ""),
        job_queue_url=os.environ.get("JOB_QUEUE_URL", ""),
        collection_prefix=os.environ.get("COLLECTION_PREFIX", f"snaprace-{stage}"),
        bib_min_length=_optional_int("BIB_MIN_LENGTH"),
        bib_max_length=_optional_int("BIB_MAX_LENGTH"),
        quota_table_name=os.environ.get("QUOTA_TABLE_NAME", ""),
        rekognition_quotas=_quotas(os.environ.get("REKOGNITION_QUOTAS", "")),
        runner_search_share=_float("RUNNER_SEARCH_SHARE", 0.5),
        public_searches_per_minute=_int("PUBLIC_SEARCHES_PER_MINUTE", 60),
        public_selfies_per_hour=_int("PUBLIC_SELFIES_PER_HOUR", 10),
        signing_key_secret_name=os.environ.get(
            "SIGNING_KEY_SECRET_NAME", f"{stage}/image-rekognition/signing-key"
        ),
    )
