"""SnapRace operator tooling: the `snaprace` command and the embedded local stack.

Never deployed: the Lambda package is src/ (template.yaml's CodeUri)."""
