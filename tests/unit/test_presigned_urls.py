"""Photo URLs are presigned with SigV4 on the bucket's regional host: a new bucket answers the
global host (bucket.s3.amazonaws.com) with a 307 to its region, which breaks the signature."""

from urllib.parse import parse_qs, urlparse

import pytest

from pipeline.common import clients
from pipeline.search import answers


@pytest.mark.parametrize("region", ["ap-northeast-2", "eu-central-1"])
def test_photo_urls_use_the_regional_host_and_sigv4(monkeypatch, region):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    item = {"processedKey": "acme/seoul/processed/abc.jpg", "thumbnailKey": "acme/seoul/thumbnails/abc.jpg"}
    urls = answers.photo_urls(clients.s3_presigner(), "snaprace-images-prod", item)
    for url in urls.values():
        parsed = urlparse(url)
        assert parsed.scheme == "https"
        assert parsed.netloc == f"snaprace-images-prod.s3.{region}.amazonaws.com"
        assert parse_qs(parsed.query)["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
        assert parse_qs(parsed.query)["X-Amz-Expires"] == [str(answers.URL_SECONDS)]


def test_against_a_local_endpoint_urls_are_path_style_on_it(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    url = answers.photo_urls(
        clients.s3_presigner(), "snaprace-images-dev", {"processedKey": "a/b/processed/c.jpg"}
    )
    assert url["photoUrl"].startswith("http://127.0.0.1:4566/snaprace-images-dev/a/b/processed/c.jpg?")
