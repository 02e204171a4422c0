"""Code deployed to Lambda: the handlers of each step and the shared code they use.

One module owns each concept:
    config    environment variables declared in template.yaml, read once
    keys      object keys, org/event ids, photoId, execution names, collection ids
    errors    error types with readable reasons, and the state machine's error names
    images    image normalisation (Pillow): validate, orient, resize, encode
    bibs      which DetectText words are bib numbers (pure functions)
    rekognition  the Rekognition edge: DetectText, collections, IndexFaces, DeleteFaces
    table     the DynamoDB single table: the only code that knows PK/SK formats
    results   replacing a photo's results everywhere (table, faces, derived objects)
    uploads   which execution an S3 event from the upload queue starts
    clients   boto3 clients, created once per container
"""
