"""`make demo`: the whole flow on the local stack with generated photos, then a summary.

Starts `snaprace local up` as its own process (as an operator would), uploads the sample event
(snaprace.samples.demo_set: runners with bibs, a hidden bib, a rotated portrait, a photo with no
one in it, and three uploads that must be rejected), waits, prints what the pipeline found next to
what the photos really show, searches one runner by bib and by selfie; with --keep (the default
on a terminal) it leaves the stack up with the pages and an organiser key until Ctrl-C.

With the `vision` engine (the default) real OCR and face models look at the pixels: the bibs are
read from the drawn numbers; two runners have real faces (public-domain portraits, snaprace.portraits)
that are indexed, linked to their bibs, found by a selfie (another crop of the same portrait:
docs/accuracy.md measures selfie search on real race photos) and find the photo whose bib is hidden;
the other runners' drawn heads, rightly, are not faces to a real detector. With `scripted`, the
emulator reports what each photo declares, faces included.
"""

import time
from collections import Counter

from snaprace import operations, uploading
from snaprace.local.launch import DidNotStart, launch
from snaprace.samples import demo_bibs, demo_faces, demo_selfie, write_demo_set
from snaprace.stack import Stack
from snaprace.template import ROOT

ORG, EVENT = "demo-org", "seoul-marathon-2026"
WORK = ROOT / ".snaprace"
STALL_S = 300.0  # the demo waits while photos keep becoming final; a stall is this long with none


def say(line: str = "") -> None:
    print(line, flush=True)


ENGINES = {
    "vision": (
        "Engine: vision — real offline models look at the pixels: RapidOCR (PP-OCR) reads text, OpenCV",
        "YuNet + SFace find and compare faces. Nothing is scripted; the summary shows what they found.",
    ),
    "scripted": (
        "Engine: scripted — each generated photo declares its bibs and faces; the local Rekognition",
        "emulator reports exactly those (use --engine vision for real OCR and face models).",
    ),
}


def run_demo(port: int | None = None, engine: str = "vision", keep: bool = False) -> int:
    started = time.monotonic()
    folder = WORK / "demo-photos"
    samples = write_demo_set(folder)
    say(f"SnapRace demo: {len(samples)} generated photos in {folder.relative_to(ROOT)}")
    for line in ENGINES[engine]:
        say(line)
    say()
    (WORK / "demo.log").unlink(missing_ok=True)  # this run's log only
    try:
        local = launch(
            WORK / "demo.log", "--engine", engine, port=port, echo=lambda line: say(f"  [local] {line}")
        )
    except DidNotStart as exc:
        say(str(exc))
        return 1
    try:
        stack = Stack(endpoint_url=local.endpoint)
        say(
            f"$ snaprace --endpoint-url {local.endpoint} upload {folder.relative_to(ROOT)} "
            f"--org {ORG} --event {EVENT}"
        )
        plans, _ = uploading.plan_uploads([folder], ORG, EVENT, None, force=True)  # rejects on purpose
        upload_started = time.monotonic()
        report = uploading.upload(stack, plans)
        say(
            f"  {len(report.uploaded)} uploaded, {len(report.skipped)} already there, "
            f"{len(report.failed)} failed"
        )
        say(f"$ snaprace wait --org {ORG} --event {EVENT}   # while photos keep becoming final")
        finished, audit = operations.wait(
            stack, ORG, EVENT, timeout=STALL_S, interval=0.25, progressing=True, on_poll=progress_line()
        )
        now = time.monotonic()
        result = summarise(stack, samples, audit, finished, (now - started, now - upload_started), engine)
        if keep:
            show_pages(stack, local.endpoint)
        else:
            say("  `snaprace demo --keep` leaves the local stack up with the runner's and organiser's pages.")
        return result
    finally:
        say(f"  [local] {local.stop().rstrip().splitlines()[-1]}")


def progress_line(every: float = 10.0):
    """An audit callback that says how many photos are final, when that changed, at most every
    `every` seconds (the wait takes minutes on a busy laptop: it must not look stuck)."""
    said = {"final": -1, "at": 0.0}

    def on_poll(audit) -> None:
        final = audit.raw - len(audit.missing)
        if final != said["final"] and time.monotonic() - said["at"] >= every:
            say(f"  {final} of {audit.raw} photos final")
            said.update(final=final, at=time.monotonic())

    return on_poll


def show_pages(stack: Stack, endpoint: str) -> None:
    """Publish the demo's event, print its pages and a key for the organiser's page, and leave the
    stack up until Ctrl-C."""
    from snaprace import access

    operations.event_settings(stack, ORG, EVENT, published=True, selfie_mode="open")
    page = f"{stack.output('ApiUrl').rstrip('/')}/e/{ORG}/{EVENT}"
    key = access.create(stack, ORG).key
    say()
    say(f"The runner page:     {page}")
    say(f"The organiser page:  {page.replace('/e/', '/o/', 1)}")
    say(f"  its key (paste it into the page): {key}")
    say(f"  other commands: snaprace --endpoint-url {endpoint} ...")
    say("The local stack stays up to explore; Ctrl-C stops it.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        say()


def search(options: str, hits: list[dict], showing: set[str]) -> bool:
    say(f"$ snaprace photos --org {ORG} --event {EVENT} {options}")
    for photo in hits:
        matched = photo["matchedBy"] + (f" {photo['similarity']:.1f}%" if photo["similarity"] else "")
        say(f"  {photo['rawKey'].rsplit('/', 1)[-1]:<28} {matched:<14} bibs {','.join(photo['bibs']) or '-'}")
    found = {p["rawKey"].rsplit("/", 1)[-1] for p in hits}
    verdict = "all" if found == showing else "NOT all"
    say(f"  {len(hits)} photos: {verdict} of the {len(showing)} photos expected")
    return found == showing


def summarise(stack, samples, audit, finished, took, engine: str = "scripted") -> int:
    counts = audit.as_dict()
    say()
    say(
        f"Photos       {counts['raw']} uploaded: {counts['indexed']} indexed, {counts['rejected']} rejected, "
        f"{counts['failed']} failed, {counts['missing']} missing"
    )
    indexed = operations.photos(stack, ORG, EVENT)
    found_bibs = Counter(b for photo in indexed for b in photo["bibs"])
    expected_bibs = Counter(b for sample in samples for b in sample.bibs)
    say(
        f"Bibs         {sum(found_bibs.values())} read on photos ({len(found_bibs)} runners); "
        f"the photos show {sum(expected_bibs.values())}"
    )
    by_name = {p["rawKey"].rsplit("/", 1)[-1]: p for p in indexed}
    for sample in samples:
        read = sorted(by_name.get(sample.name, {}).get("bibs", []))
        if sample.expect == "INDEXED" and read != sorted(sample.bibs):
            say(f"  {sample.name:<28} shows {','.join(sample.bibs) or '-'}, read {','.join(read) or '-'}")
    faces = sum(photo["faces"] for photo in indexed)
    people = [person for s in samples if s.expect == "INDEXED" for person in s.people]
    portraits = demo_faces(demo_bibs()[1])
    real = sum(person.removeprefix("runner-") in portraits for person in people)
    if engine == "vision":
        runners = ", ".join(portraits)
        say(f"Faces        {faces} indexed; the photos show {real} real faces (runners {runners}:")
        say(f"             public-domain portraits) and {len(people) - real} drawn heads, rightly not faces")
    else:
        say(f"Faces        {faces} indexed; the photos show {len(people)}")
    rejected = operations.photos_with_status(stack, ORG, EVENT, "REJECTED")  # sorted by key
    say("Rejected")
    for item in rejected:
        say(f"  {item['rawKey'].rsplit('/', 1)[-1]:<28} {item['reason'] or ''}")
    in_all, processing = took
    if finished:
        say(
            f"Time         {processing:.1f} s from the first upload to every photo final "
            f"({in_all:.1f} s in all)"
        )
    else:
        say(
            f"Time         {len(audit.missing)} of {counts['raw']} photos still processing "
            f"{processing:.0f} s after the first upload: none became final in the last {STALL_S:.0f} s"
        )
    ok = finished and not audit.missing and found_bibs == expected_bibs
    if engine == "vision":  # each photo's real faces indexed, on that photo (drawn heads are not faces)
        for sample in samples:
            shown = sum(person.removeprefix("runner-") in portraits for person in sample.people)
            indexed_here = by_name.get(sample.name, {}).get("faces", 0)
            if indexed_here < shown:
                say(f"  {sample.name:<28} shows {shown} real faces, {indexed_here} indexed")
                ok = False
    hidden = next(s for s in samples if len(s.people) > len(s.bibs))  # a runner whose bib is hidden
    runner = next(p for p in hidden.people if p.removeprefix("runner-") not in hidden.bibs)
    bib = runner.removeprefix("runner-")
    showing = {s.name for s in samples if runner in s.people}
    say()
    say(f"A runner's photos (bib {bib} cannot be seen in {hidden.name}; their face can):")
    ok &= search(f"--bib {bib}", operations.photos(stack, ORG, EVENT, bib=bib), showing)
    for person in portraits if engine == "vision" else [bib]:  # each real face's selfie: theirs only
        theirs = {s.name for s in samples if f"runner-{person}" in s.people}
        hits = operations.photos(stack, ORG, EVENT, selfie=demo_selfie(person))
        ok &= search(f"--selfie selfie-{person}.jpg", hits, theirs)
    expected_rejects = {s.name for s in samples if s.expect == "REJECTED"}
    ok = ok and {i["rawKey"].rsplit("/", 1)[-1] for i in rejected} == expected_rejects
    say()
    if ok:
        say("Demo passed: every photo has its final status and the results match the photos.")
    elif not finished:
        say(
            f"Demo FAILED: stalled, {len(audit.missing)} photos still processing with none finished in "
            f"{STALL_S:.0f} s (see .snaprace/demo.log)."
        )
    else:
        say("Demo FAILED: results differ from what the photos show (see above and .snaprace/demo.log).")
    return 0 if ok else 1
