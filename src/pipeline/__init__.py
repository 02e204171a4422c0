"""Code deployed to Lambda, by the service's parts. Each package says what it owns; dependencies
run downwards only (handlers -> domains -> store -> common):

    handlers/     one module per function in template.yaml: parse the event, call one domain
                  function, shape the answer
    processing/   an upload becomes an indexed photo: which execution starts, pacing, images,
                  bib reading, face links, the second look, saving results
    search/       runners find photos: gallery, by bib (+ linked faces, + time), by name, by selfie
    corrections/  people fix reads: the review queue and corrections
    timing/       timing results and camera clocks (pure rules and the results file)
    retention/    face data that ends: the retention sweep and runners' erasures
    events/       an event's settings and its progress
    access/       who may call: organiser keys, runner links, per-client limits
    api/          what both HTTP APIs share: the router, guards, typed requests and answers, headers
    store/        the DynamoDB single table, by item kind: the only code that knows its keys
    common/       config, clients, errors, models, keys, boxes, and the Rekognition edge
    pages/        the runner's and the organiser's web pages (static files)
"""
