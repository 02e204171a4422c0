"""Background jobs: work that grows with the event, done outside any request, page by page, each
page one SQS message that names the next (so a job resumes where a failure left it), its progress
in a job item (pipeline.store.jobs). Four kinds: a whole-event re-run (reprocess), the face data
off an event's items (scrub), an event deleted everywhere (purge) and the count of a large event's
progress (pipeline.events.progress); `queue.start` starts any."""
