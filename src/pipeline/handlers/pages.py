"""PagesFunction: the runner's page and the organiser's page, served by the stack's HTTP API.

    GET /e/{orgId}/{eventId}     the runner's page (?bib=NNN opens that bib's photos; #runner= a link)
    GET /o/{orgId}/{eventId}     the organiser's page
    GET /assets/{name}           their scripts (common.js, then one each) and style sheet

The pages are a few small static files in the package (src/pipeline/pages), with no framework,
font or CDN: served from the same origin as the API they call, so no CORS is needed. The HTML is
revalidated; the assets are cached 5 minutes. A serverless team could move the same files to S3 +
CloudFront unchanged (docs/pages.md says when).
"""

from functools import cache
from pathlib import Path

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from pipeline.api import web
from pipeline.common import keys
from pipeline.common.config import get_config
from pipeline.common.errors import InvalidKey

logger = Logger()
app = APIGatewayHttpResolver()
PAGES = Path(__file__).resolve().parent.parent / "pages"
ASSETS = {  # the only files served: a name in the path never reaches the file system otherwise
    "common.js": "text/javascript; charset=utf-8",
    "runner.js": "text/javascript; charset=utf-8",
    "organiser.js": "text/javascript; charset=utf-8",
    "pages.css": "text/css; charset=utf-8",
}


@cache
def security_headers() -> dict:
    return web.page_headers(get_config().bucket_name)


@cache
def read(name: str) -> str:
    """A page file, read once per container (the package never changes under it)."""
    return (PAGES / name).read_text(encoding="utf-8")


def page(name: str, org_id: str, event_id: str) -> Response:
    try:
        keys.validate_event_ids(org_id, event_id)
    except InvalidKey as exc:
        return Response(404, "text/plain; charset=utf-8", f"no such event: {exc}", security_headers())
    return Response(
        200,
        "text/html; charset=utf-8",
        read(name),
        {**security_headers(), "Cache-Control": "no-cache"},
    )


@app.get("/e/<org_id>/<event_id>")
def runner_page(org_id: str, event_id: str) -> Response:
    return page("runner.html", org_id, event_id)


@app.get("/o/<org_id>/<event_id>")
def organiser_page(org_id: str, event_id: str) -> Response:
    return page("organiser.html", org_id, event_id)


@app.get("/assets/<name>")
def asset(name: str) -> Response:
    if name not in ASSETS:
        return Response(404, "text/plain; charset=utf-8", "not found", security_headers())
    headers = {**security_headers(), "Cache-Control": "public, max-age=300"}  # a deploy shows within 5 min
    return Response(200, ASSETS[name], read(name), headers)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict, context) -> dict:
    return app.resolve(event, context)
