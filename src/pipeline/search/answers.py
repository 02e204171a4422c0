"""What a search answers: the photos it matched, how, in which order, and how a photo is shown
(short-lived presigned URLs; no raw key, no face ids)."""

from dataclasses import dataclass

URL_SECONDS = 900
_RANK = {"bib": 0, "corrected": 0, "face": 1, "selfie": 1, "time": 2}


@dataclass(frozen=True)
class Match:
    item: dict
    # "bib", "corrected" (a person added it, pipeline.corrections.records), "face" (the bib's linked face
    # elsewhere), "time" (taken at the runner's checkpoint as they passed, pipeline.timing.rules), "selfie"
    matched_by: str | None = None
    similarity: float | None = None
    seconds: float | None = None  # "time": the photo's corrected time minus the runner's passing


def ranked(matches) -> list[Match]:
    """Bib reads (a machine's or a person's) first, then face matches by similarity, then time
    matches by closeness; newest first among equals."""
    newest_first = sorted(matches, key=lambda m: m.item.get("galleryKey", ""), reverse=True)
    return sorted(
        newest_first,
        key=lambda m: (_RANK.get(m.matched_by, 1), -(m.similarity or 0.0), abs(m.seconds or 0.0)),
    )


def photo_urls(s3_client, bucket: str, item: dict) -> dict:
    """Short-lived presigned URLs for the processed photo, its thumbnail, and the processed photo
    as a download (Content-Disposition: attachment, so a phone saves it). Never a plain CDN URL:
    photo ids hash guessable camera file names, so unsigned URLs would let anyone list an event's
    photos."""
    wanted: tuple[tuple[str, str, dict[str, str]], ...] = (
        ("photoUrl", "processedKey", {}),
        ("thumbnailUrl", "thumbnailKey", {}),
        (
            "downloadUrl",
            "processedKey",
            {"ResponseContentDisposition": f'attachment; filename="{item.get("photoId", "photo")}.jpg"'},
        ),
    )
    urls = {}
    for name, key_attribute, extra in wanted:
        key = item.get(key_attribute)
        urls[name] = (
            s3_client.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key, **extra}, ExpiresIn=URL_SECONDS
            )
            if key
            else None
        )
    return urls


def describe(match: Match, urls: dict) -> dict:
    """A photo as the API returns it: no raw key (it can name photographers), no face ids."""
    item = match.item
    return {
        "photoId": item["photoId"],
        "bibs": list(item.get("bibs", [])),
        "matchedBy": match.matched_by,
        "similarity": None if match.similarity is None else round(match.similarity, 2),
        "secondsFromPassing": None if match.seconds is None else round(match.seconds, 1),
        "takenAt": item.get("takenAt"),
        "width": int(item["width"]) if item.get("width") is not None else None,
        "height": int(item["height"]) if item.get("height") is not None else None,
        **urls,
    }
