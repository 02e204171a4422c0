"""Background jobs: work that grows with the event, done outside any request, page by page, each
page one SQS message that names the next (so a job resumes where a failure left it), its progress
in a job item (pipeline.store.jobs). Two kinds: a whole-event re-run (reprocess) and the face data
off an event's items (scrub); `queue.start` starts either."""
