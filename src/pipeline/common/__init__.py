"""What every part stands on: configuration (config), boto3 clients (clients), error types
(errors), the shapes that cross boundaries (models), keys and ids (keys), boxes (geometry), and the
Rekognition edge with its retries (rekognition)."""
